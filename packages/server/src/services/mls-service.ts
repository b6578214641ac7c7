import { ed25519 } from '@noble/curves/ed25519.js';
import {
  type ClaimKeyPackagesReply,
  CourierError,
  type DeviceCertificate,
  type DeviceCertificatesReply,
  encodeMlsWelcome,
  equalBytes,
  type ErrorCode,
  fromBase64,
  isClientMsgId,
  isErrorCode,
  isId,
  type KeyPackageStockReply,
  type MlsGroupView,
  type RatchetTreeReply,
  type ServerKeyReply,
  type SubmitCommitBody,
  type SubmitCommitReply,
  signDeviceCertificate,
  toBase64,
  type UploadKeyPackagesBody,
} from '@courier/protocol';
import {
  addedKeyPackageRefs,
  assertUpdatePathRule,
  type HandshakeSummary,
  inspectHandshake,
  inspectKeyPackage,
  inspectRatchetTree,
  MlsError,
  splitWelcome,
} from '@courier/mls';
import type { Bus } from '../bus/ports.ts';
import type { Clock } from '../deps.ts';
import type { KeyPackageRow, MailboxRow, MlsLeafRow, Stores, Storage } from '../storage/ports.ts';
import type { Principal } from './auth-service.ts';
import type { GroupService } from './group-service.ts';

export interface MlsServiceOptions {
  /** The Ed25519 secret key that certifies device credentials. */
  certificationKey: Uint8Array;
  /** Most one-time key packages a device may keep published. */
  maxOneTimeKeyPackages: number;
  /** Key-package claims per window (config `limits`): beyond them, last-resort packages or an error. */
  claimLimits: {
    windowMs: number;
    oneTimePerDevice: number;
    oneTimePerClaimerPerDevice: number;
    requestsPerClaimer: number;
  };
}

/** Errors of @courier/mls become catalog errors; anything else stays what it is. */
function courierError(error: unknown): unknown {
  if (!(error instanceof MlsError)) return error;
  const code: ErrorCode = isErrorCode(error.code) ? error.code : 'MLS_MALFORMED';
  return new CourierError(code, { message: error.message });
}

function decode(text: string | undefined, field: string): Uint8Array {
  const bytes = text === undefined ? undefined : fromBase64(text);
  if (bytes === undefined || bytes.length === 0)
    throw new CourierError('REQ_INVALID', { message: `${field} must be non-empty base64.` });
  return bytes;
}

/**
 * The MLS delivery service (DESIGN §5, RFC 9420 §16): certifies device credentials, keeps and hands
 * out key packages, and accepts commits. The chat roster decides who belongs to a chat; a commit is
 * accepted only when it moves the group's tree towards that roster (adds of roster members' devices,
 * removes of devices that left it), is for the group's current epoch (the first valid commit wins;
 * later ones get MSG_STALE_EPOCH), comes from a member device, carries the UpdatePath RFC 9420 §12.4
 * requires, and matches the ratchet tree it hands to joiners. It holds no private key of any user.
 */
export class MlsService {
  private readonly certificationPublicKey: Uint8Array;

  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly groups: Pick<GroupService, 'announceDevice'>,
    private readonly options: MlsServiceOptions,
  ) {
    this.certificationPublicKey = ed25519.getPublicKey(options.certificationKey);
  }

  serverKey(): ServerKeyReply {
    return { certificationKey: toBase64(this.certificationPublicKey) };
  }

  /** Sets the device's signature key once and returns the server's certificate for it. */
  async registerCredential(principal: Principal, signaturePublicKey: string): Promise<DeviceCertificate> {
    const key = decode(signaturePublicKey, 'signaturePublicKey');
    if (key.length !== 32)
      throw new CourierError('REQ_INVALID', { message: 'An Ed25519 public key has 32 bytes.' });
    const existing = await this.storage.keyPackages.credential(principal.deviceId);
    if (existing) {
      if (!equalBytes(existing.signatureKey, key)) throw new CourierError('MLS_CREDENTIAL_EXISTS');
      return JSON.parse(existing.certificate) as DeviceCertificate;
    }
    const certificate = signDeviceCertificate(this.options.certificationKey, {
      accountId: principal.accountId,
      deviceId: principal.deviceId,
      signaturePublicKey: toBase64(key),
      issuedAtMs: this.clock.now(),
    });
    await this.storage.keyPackages.insertCredential({
      deviceId: principal.deviceId,
      accountId: principal.accountId,
      signatureKey: key,
      certificate: JSON.stringify(certificate),
      createdAt: certificate.issuedAtMs,
    });
    return certificate;
  }

  /** Publishes key packages of the calling device; each must be for its certified credential. */
  async uploadKeyPackages(principal: Principal, body: UploadKeyPackagesBody): Promise<KeyPackageStockReply> {
    const credential = await this.storage.keyPackages.credential(principal.deviceId);
    if (!credential) throw new CourierError('MLS_CREDENTIAL_REQUIRED');
    const now = this.clock.now();
    const check = async (text: string, lastResort: boolean): Promise<KeyPackageRow> => {
      const bytes = decode(text, 'keyPackage');
      let summary: Awaited<ReturnType<typeof inspectKeyPackage>>;
      try {
        summary = await inspectKeyPackage(bytes);
      } catch (error) {
        throw new CourierError('MLS_KEY_PACKAGE_INVALID', { message: (error as Error).message });
      }
      if (
        summary.accountId !== principal.accountId ||
        summary.deviceId !== principal.deviceId ||
        !equalBytes(summary.signaturePublicKey, credential.signatureKey) ||
        summary.lastResort !== lastResort
      ) {
        throw new CourierError('MLS_KEY_PACKAGE_INVALID');
      }
      return { deviceId: principal.deviceId, ref: summary.ref, package: bytes, lastResort, createdAt: now };
    };
    const oneTime: KeyPackageRow[] = [];
    for (const text of body.keyPackages) oneTime.push(await check(text, false));
    const lastResort = body.lastResort === undefined ? undefined : await check(body.lastResort, true);
    const stock = await this.storage.keyPackages.stock(principal.deviceId);
    if (stock.oneTime + oneTime.length > this.options.maxOneTimeKeyPackages) {
      throw new CourierError('REQ_INVALID', {
        message: `A device keeps at most ${this.options.maxOneTimeKeyPackages} one-time key packages.`,
      });
    }
    await this.storage.keyPackages.publish(principal.deviceId, oneTime, lastResort);
    // The device's first keys: its chats can add it now.
    if (stock.oneTime === 0 && !stock.lastResort) await this.groups.announceDevice(principal);
    return this.storage.keyPackages.stock(principal.deviceId);
  }

  stock(principal: Principal): Promise<KeyPackageStockReply> {
    return this.storage.keyPackages.stock(principal.deviceId);
  }

  /**
   * One key package for every device (with a credential) of each account, consuming one-time ones.
   * One-time packages are rate-limited per target device (all claimers) and per claimer and target
   * device, so that nobody can drain another device's stock (forward secrecy of its next joins),
   * while adding thousands of devices to a new group once still takes one-time packages; over either
   * limit the device's last-resort package is handed out instead, which still works. Too many
   * requests get MLS_CLAIM_RATE_LIMITED.
   */
  async claim(
    principal: Principal,
    accountIds: readonly string[],
    deviceIds?: readonly string[],
  ): Promise<ClaimKeyPackagesReply> {
    const ids = [...new Set(accountIds)];
    if (ids.some((id) => !isId('account', id))) throw new CourierError('ACCOUNT_NOT_FOUND');
    const limits = this.options.claimLimits;
    const now = this.clock.now();
    const requests = await this.storage.rateLimits.hit(
      `kp-requests:${principal.accountId}`,
      now,
      limits.windowMs,
    );
    if (requests > limits.requestsPerClaimer)
      throw new CourierError('MLS_CLAIM_RATE_LIMITED', { details: { windowMs: limits.windowMs } });
    const only = deviceIds === undefined ? undefined : new Set(deviceIds);
    // In one order for every request, so that concurrent claims lock rows in the same order.
    const credentials = (await this.storage.keyPackages.credentialsOfAccounts(ids)).sort(
      (a, b) => a.accountId.localeCompare(b.accountId, 'en') || a.deviceId.localeCompare(b.deviceId, 'en'),
    );
    // One transaction for the whole request: its counters and claims are one durable write.
    return this.storage.transaction(async (tx) => {
      const keyPackages: ClaimKeyPackagesReply['keyPackages'] = [];
      for (const credential of credentials) {
        if (only && !only.has(credential.deviceId)) continue;
        // The claimer's own count first, so that what it is refused does not use up the device's.
        const count = (key: string) => tx.rateLimits.hit(key, now, limits.windowMs);
        const oneTime =
          (await count(`kp-pair:${principal.accountId}:${credential.deviceId}`)) <=
            limits.oneTimePerClaimerPerDevice &&
          (await count(`kp-device:${credential.deviceId}`)) <= limits.oneTimePerDevice;
        const claimed = await tx.keyPackages.claim(credential.deviceId, { lastResortOnly: !oneTime });
        if (!claimed) continue; // a device that published none cannot be added until it does
        keyPackages.push({
          accountId: credential.accountId,
          deviceId: credential.deviceId,
          keyPackage: toBase64(claimed.package),
          lastResort: claimed.lastResort,
          certificate: JSON.parse(credential.certificate) as DeviceCertificate,
        });
      }
      return { keyPackages };
    });
  }

  /** The certificates of every device of these accounts (public keys; any signed-in user may ask). */
  async certificates(accountIds: readonly string[]): Promise<DeviceCertificatesReply> {
    const ids = [...new Set(accountIds)].filter((id) => isId('account', id));
    const credentials = await this.storage.keyPackages.credentialsOfAccounts(ids);
    return { certificates: credentials.map((c) => JSON.parse(c.certificate) as DeviceCertificate) };
  }

  async groupView(principal: Principal, groupId: string): Promise<MlsGroupView> {
    return this.read(this.storage, principal, groupId, async (epoch, leaves, entitled) => {
      const seated = new Set(leaves.map((l) => l.deviceId));
      const credentials = await this.storage.keyPackages.credentialsOfAccounts([
        ...new Set([...entitled.values()]),
      ]);
      return {
        groupId,
        epoch,
        leaves: leaves.map(({ leafIndex, accountId, deviceId }) => ({ leafIndex, accountId, deviceId })),
        missing: credentials
          .filter((c) => entitled.has(c.deviceId) && !seated.has(c.deviceId))
          .map((c) => ({ accountId: c.accountId, deviceId: c.deviceId })),
        stale: leaves.filter((l) => !entitled.has(l.deviceId)).map((l) => l.leafIndex),
      };
    });
  }

  async tree(principal: Principal, groupId: string, epoch: number): Promise<RatchetTreeReply> {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new CourierError('REQ_INVALID');
    if (!isId('group', groupId) || !(await this.storage.groups.isMember(groupId, principal.accountId)))
      throw new CourierError('GROUP_NOT_FOUND');
    const tree = await this.storage.mlsGroups.tree(groupId, epoch);
    if (!tree) throw new CourierError('MLS_TREE_NOT_FOUND');
    return { epoch, ratchetTree: toBase64(tree) };
  }

  /**
   * The roster check a commit passes before anything in it is read: the group exists and the
   * caller's account is a member (GROUP_NOT_FOUND otherwise). The HTTP route runs it before the
   * request body is even parsed.
   */
  async assertMayCommit(principal: Principal, groupId: string): Promise<void> {
    if (
      !isId('group', groupId) ||
      (await this.storage.mlsGroups.epoch(groupId)) === undefined ||
      !(await this.storage.groups.isMember(groupId, principal.accountId))
    )
      throw new CourierError('GROUP_NOT_FOUND');
  }

  /** Checks a commit against the group's epoch, roster and tree; stores it and routes its Welcome. */
  async submitCommit(
    principal: Principal,
    groupId: string,
    body: SubmitCommitBody,
  ): Promise<SubmitCommitReply> {
    if (!isClientMsgId(body.clientMsgId)) throw new CourierError('MSG_CLIENT_ID_INVALID');
    // Cheap checks before expensive ones: nothing of the commit is decoded or parsed for someone
    // outside the chat (the transaction below checks again, under the group's lock).
    await this.assertMayCommit(principal, groupId);
    const commit = decode(body.commit, 'commit');
    const welcome = body.welcome === undefined ? undefined : decode(body.welcome, 'welcome');
    const ratchetTree = body.ratchetTree === undefined ? undefined : decode(body.ratchetTree, 'ratchetTree');
    let summary: HandshakeSummary;
    try {
      summary = inspectHandshake(commit);
      if (summary.contentType !== 'commit')
        throw new CourierError('MLS_UNEXPECTED_MESSAGE', { message: 'Only commits are submitted here.' });
      assertUpdatePathRule(summary);
    } catch (error) {
      throw courierError(error);
    }
    if (!equalBytes(summary.groupId, new TextEncoder().encode(groupId)))
      throw new CourierError('MLS_WRONG_GROUP');
    if (summary.senderLeafIndex === undefined) throw new CourierError('MLS_NOT_MEMBER');
    const removes: number[] = [];
    const adds: { accountId: string; deviceId: string; signaturePublicKey: Uint8Array }[] = [];
    for (const proposal of summary.proposals) {
      if (proposal.kind === 'remove') removes.push(proposal.removedLeafIndex);
      else if (proposal.kind === 'add' && proposal.accountId && proposal.deviceId)
        adds.push({
          accountId: proposal.accountId,
          deviceId: proposal.deviceId,
          signaturePublicKey: proposal.signaturePublicKey,
        });
      else if (proposal.kind === 'add') throw new CourierError('MLS_ROSTER_MISMATCH');
      else throw new CourierError('MLS_UNSUPPORTED_PROPOSAL');
    }
    if (adds.length > 0 && (welcome === undefined || ratchetTree === undefined))
      throw new CourierError('MLS_WELCOME_REQUIRED');
    let treeLeaves: ReturnType<typeof inspectRatchetTree> | undefined;
    // Each added device gets only its own part of the Welcome (its secrets and the shared GroupInfo).
    const welcomes = new Map<string, Uint8Array>();
    try {
      treeLeaves = ratchetTree === undefined ? undefined : inspectRatchetTree(ratchetTree);
      if (adds.length > 0) {
        const refs = await addedKeyPackageRefs(commit);
        const parts = splitWelcome(welcome!);
        refs.forEach((ref, i) => {
          const part = parts.get(ref);
          if (!part)
            throw new CourierError('MLS_WELCOME_REQUIRED', {
              message: 'The Welcome leaves out an added device.',
            });
          welcomes.set(adds[i]!.deviceId, part);
        });
      }
    } catch (error) {
      throw courierError(error);
    }

    const now = this.clock.now();
    const outcome = await this.storage.transaction(async (tx) => {
      const [stored] = await tx.entries.storedSends([
        { senderDeviceId: principal.deviceId, clientMsgId: body.clientMsgId },
      ]);
      if (stored && stored.target === groupId) {
        return {
          seq: stored.seq,
          epoch: (await tx.mlsGroups.epoch(groupId)) ?? 0,
          duplicate: true,
          mailbox: [],
        };
      }
      return this.read(tx, principal, groupId, async (epoch, leaves, entitled) => {
        if (summary.epoch < BigInt(epoch)) throw new CourierError('MSG_STALE_EPOCH');
        if (summary.epoch > BigInt(epoch)) throw new CourierError('MLS_WRONG_EPOCH');
        const byLeaf = new Map(leaves.map((l) => [l.leafIndex, l]));
        if (byLeaf.get(summary.senderLeafIndex!)?.deviceId !== principal.deviceId)
          throw new CourierError('MLS_NOT_MEMBER');

        // Removes: only devices the roster no longer entitles (left, removed, signed out, erased).
        for (const leaf of removes) {
          const row = byLeaf.get(leaf);
          if (!row || entitled.has(row.deviceId) || removes.indexOf(leaf) !== removes.lastIndexOf(leaf))
            throw new CourierError('MLS_ROSTER_MISMATCH', {
              message: `Leaf ${leaf} is not due for removal.`,
            });
        }
        for (const leaf of removes) byLeaf.delete(leaf);

        // Adds: certified devices of roster members that are not in the tree yet, each once.
        const seated = new Set([...byLeaf.values()].map((l) => l.deviceId));
        const credentials = new Map(
          (await tx.keyPackages.credentialsOfAccounts([...new Set(adds.map((a) => a.accountId))])).map(
            (c) => [c.deviceId, c],
          ),
        );
        const added: MlsLeafRow[] = [];
        let next = 0;
        for (const add of adds) {
          const credential = credentials.get(add.deviceId);
          if (
            entitled.get(add.deviceId) !== add.accountId ||
            seated.has(add.deviceId) ||
            !credential ||
            !equalBytes(credential.signatureKey, add.signaturePublicKey)
          ) {
            throw new CourierError('MLS_ROSTER_MISMATCH', {
              message: `Device ${add.deviceId} cannot be added: it is not a certified, unseated device of a member.`,
            });
          }
          seated.add(add.deviceId);
          // RFC 9420 §12.1.1: each Add takes the leftmost blank leaf (after the Removes).
          while (byLeaf.has(next)) next++;
          const row = { groupId, leafIndex: next, accountId: add.accountId, deviceId: add.deviceId };
          byLeaf.set(next, row);
          added.push(row);
        }

        if (treeLeaves !== undefined) {
          const expected = [...byLeaf.values()].sort((a, b) => a.leafIndex - b.leafIndex);
          const matches =
            treeLeaves.length === expected.length &&
            treeLeaves.every(
              (leaf, i) =>
                leaf.leafIndex === expected[i]!.leafIndex &&
                leaf.deviceId === expected[i]!.deviceId &&
                leaf.accountId === expected[i]!.accountId,
            );
          if (!matches) throw new CourierError('MLS_TREE_MISMATCH');
        }

        const seq = await tx.groups.allocateSeq(groupId, 1);
        await tx.entries.insert([
          {
            groupId,
            seq,
            kind: 'commit',
            senderAccountId: principal.accountId,
            senderDeviceId: principal.deviceId,
            clientMsgId: body.clientMsgId,
            payload: commit,
            createdAt: now,
          },
        ]);
        const newEpoch = epoch + 1;
        await tx.mlsGroups.setEpoch(groupId, newEpoch);
        await tx.mlsGroups.removeLeaves(groupId, removes);
        await tx.mlsGroups.insertLeaves(added);
        if (ratchetTree !== undefined) await tx.mlsGroups.putTree(groupId, newEpoch, ratchetTree, now);

        const mailbox: MailboxRow[] = [];
        for (const row of added) {
          const mailboxSeq = await tx.devices.allocateMailboxSeq(row.deviceId, 1);
          mailbox.push({
            deviceId: row.deviceId,
            seq: mailboxSeq,
            kind: 'welcome',
            senderAccountId: principal.accountId,
            senderDeviceId: principal.deviceId,
            clientMsgId: body.clientMsgId,
            payload: encodeMlsWelcome({
              groupId,
              epoch: newEpoch,
              commitSeq: seq,
              welcome: welcomes.get(row.deviceId)!,
            }),
            createdAt: now,
          });
        }
        await tx.mailbox.insert(mailbox);
        return { seq, epoch: newEpoch, duplicate: false, mailbox };
      });
    });

    if (!outcome.duplicate) {
      await this.bus.publish({ type: 'groups_appended', groups: [[groupId, outcome.seq]] });
      if (outcome.mailbox.length > 0)
        await this.bus.publish({
          type: 'mailboxes_appended',
          devices: outcome.mailbox.map((row) => [row.deviceId, row.seq]),
        });
    }
    return { seq: outcome.seq, epoch: outcome.epoch, duplicate: outcome.duplicate };
  }

  /**
   * Runs `work` with the group's epoch, its leaf map and the devices the roster entitles (device id →
   * account id), after checking that the caller's account is on the roster.
   */
  private async read<T>(
    stores: Stores,
    principal: Principal,
    groupId: string,
    work: (epoch: number, leaves: MlsLeafRow[], entitled: Map<string, string>) => Promise<T>,
  ): Promise<T> {
    if (!isId('group', groupId)) throw new CourierError('GROUP_NOT_FOUND');
    await stores.groups.lockGroups([groupId]);
    const epoch = await stores.mlsGroups.epoch(groupId);
    if (epoch === undefined || !(await stores.groups.isMember(groupId, principal.accountId)))
      throw new CourierError('GROUP_NOT_FOUND');
    const members = await stores.groups.members(groupId);
    const devices = await stores.devices.idsByAccounts(members.map((m) => m.accountId));
    const entitled = new Map(devices.map((d) => [d.id, d.accountId]));
    return work(epoch, await stores.mlsGroups.leaves(groupId), entitled);
  }
}
