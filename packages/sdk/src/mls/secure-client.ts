import {
  addMembers,
  type CommitResult,
  createGroup,
  createKeyPackage,
  createMlsClientContext,
  type DeviceIdentity,
  encryptMessage,
  eraseSecrets,
  exportGroupStateParts,
  exportSecret,
  exportRatchetTree,
  type GroupStateParts,
  generateDeviceIdentity,
  groupMembers,
  groupStateChange,
  importGroupStateParts,
  joinGroup,
  type MlsClientContext,
  type MlsGroup,
  processMessage,
  removeMembers,
  selfUpdate,
} from '@courier/mls';
import {
  type ClaimedKeyPackage,
  type ClaimKeyPackagesReply,
  CourierError,
  decodeMlsWelcome,
  decodeRosterEvent,
  type DeviceCertificate,
  type EntryFrame,
  fromBase64,
  type GroupDetailView,
  type GroupView,
  type RequestView,
  type KeyPackageStockReply,
  type MailboxItemFrame,
  type MlsGroupView,
  type RatchetTreeReply,
  type RosterEvent,
  type ServerKeyReply,
  type SubmitCommitReply,
  toBase64,
} from '@courier/protocol';
import { type Accepted, CourierConnection, type ConnectionOptions } from '../connection.ts';
import { Emitter } from '../emitter.ts';
import { CourierHttp } from '../http-client.ts';
import { randomClientMsgId } from '../random-id.ts';
import { DeviceDirectory, decodeKey, type KeyChange } from './device-directory.ts';
import {
  encodePendingCommit,
  type PendingSubmission,
  readPendingCommit,
  readPendingSubmission,
} from './pending-commit.ts';
import { type AnyContent, readContent, writeContent } from '../content/content-registry.ts';
import type { StickerRef } from '../content/sticker-content.ts';
import type { ReceiptContent } from '../content/receipt-content.ts';
import { actionOf, type MessageAction } from '../actions/message-action.ts';
import { DELETE_FOR_EVERYONE_NOTICE } from '../actions/delete-notice.ts';
import { isActionContent, shownMessage } from '../actions/shown-message.ts';
import type { ChannelKeyContent } from '../content/channel-key-content.ts';
import { type MessageRef, refOf } from '../content/message-ref.ts';
import { MAX_QUOTE_LENGTH } from '../content/reply-content.ts';
import { ReceiptTracker, type ReceiptScope } from '../receipts/receipt-tracker.ts';
import {
  openReadSync,
  parseReadSync,
  READ_SYNC_KEY_BYTES,
  READ_SYNC_LABEL,
  type ReadSyncEnvelope,
  sealReadSync,
  signedPart,
} from '../receipts/read-sync.ts';
import {
  type ChatState,
  type GroupRecord,
  type HistoryCursor,
  type HistoryPage,
  type MessageStatus,
  type MlsStore,
  messageStatus,
  type PendingCommit,
  type StashedEntry,
  type StoredMessage,
} from './mls-store.ts';
import { draftReport, type ReportChoice, type ReportDraft } from '../report/report-draft.ts';
import type { FileDescriptor } from '../media/file-descriptor.ts';

export interface SecureClientOptions
  extends Omit<ConnectionOptions, 'store' | 'onEntry' | 'onMailboxItem' | 'token'> {
  token: string;
  accountId: string;
  deviceId: string;
  store: MlsStore;
  /** One-time key packages kept published (topped up when fewer than half remain). */
  keyPackageStock?: number;
  /** Most Adds per commit (at most MAX_ADDS_PER_COMMIT, 500): large adds go in several commits. */
  maxAddsPerCommit?: number;
  /**
   * Entries of chats this filter refuses stay unhandled (a client showing one chat only): they are
   * not processed, stored or acknowledged, and come again next time.
   */
  accept?: (groupId: string) => boolean;
  /**
   * Read receipts, both ways (default on): off, this device sends none and shows none it gets (sent
   * messages stop at "delivered"). Delivery receipts are not affected. See `setReadReceipts`.
   */
  readReceipts?: boolean;
  /**
   * Whether this device may send receipts in a chat at all (default: every chat). A chat that is a
   * message request (someone the person has not accepted yet) answers false: a receipt would tell
   * the requester that the account is alive and reading.
   */
  receiptsAllowed?: (groupId: string) => boolean | Promise<boolean>;
  /**
   * Chats with more devices than this get no receipts from this device (default 100): nobody there
   * sees "delivered" or "read" (`receiptsInChat` says so, for the app to show). The person's read
   * position still reaches their own other devices, through their device mailboxes only.
   */
  receiptMaxDevices?: number;
  /** How long receipts are gathered before one goes out per chat (default 250 ms). */
  receiptDelayMs?: number;
}

export interface SecureClientEvents extends Record<string, unknown> {
  /** A message decrypted (or one this device sent was accepted). */
  message: StoredMessage;
  /**
   * A message changed on this device: another device's edit, deletion or reaction was applied to
   * it (`message` as kept now). An action of another person than the sender (edit, delete) leaves
   * the message as it was; one for a message not kept here (yet) emits nothing.
   */
  updated: { message: StoredMessage; action: MessageAction };
  /** A roster change of a chat, as the server recorded it. */
  roster: { groupId: string; seq: number; event: RosterEvent };
  /** This device joined a chat's encryption group. */
  joined: { groupId: string; epoch: number };
  /** A chat's group moved to a new epoch (someone added, removed or updated). */
  epoch: { groupId: string; epoch: number };
  /** This device was removed from a chat's encryption group. */
  removed: { groupId: string };
  /** A message that could not be read: recorded with its code and skipped, never a crash. */
  undecryptable: { groupId: string; seq: number; code: string; message: string };
  /**
   * Sent messages of a chat moved on: `stored` (the server has the one named by clientMsgId at
   * upToSeq), `delivered` or `read` (another person's device has, or the person read, every message
   * of this device's account up to upToSeq).
   */
  status: {
    groupId: string;
    status: Exclude<MessageStatus, 'queued'>;
    upToSeq: number;
    /** For `stored`: the message. */
    clientMsgId?: string;
    /** For `delivered` and `read`: the account whose receipt it was. */
    byAccountId?: string;
  };
  /** The chat's unread count changed (a message arrived, or the person read it on any of their devices). */
  unread: { groupId: string; count: number; myReadUpTo: number };
  /** Another account's device keys changed: show it to the person. */
  key_change: KeyChange;
  /**
   * A channel's secret key arrived in a chat (MLS-authenticated sender). Not trusted yet: hand it to
   * `ChannelClient.receiveKey`, which checks it against the server's channel info before keeping it.
   */
  channel_key: {
    groupId: string;
    seq: number;
    senderAccountId: string;
    senderDeviceId: string;
    content: ChannelKeyContent;
  };
  problem: CourierError;
  fatal: CourierError;
  state: string;
}

const encoder = new TextEncoder();

/** The default of `SecureClientOptions.receiptMaxDevices`. */
export const RECEIPT_MAX_DEVICES = 100;

function receiptsFor(devices: number, maxDevices: number): ChatReceipts {
  return devices <= maxDevices
    ? { on: true, devices, maxDevices }
    : { on: false, reason: 'large_group', devices, maxDevices };
}

/**
 * `SecureClient.receiptsInChat` from a device's store alone, without a client (e.g. a history read
 * offline): on or off by the number of devices in the chat's group as this device keeps it.
 */
export async function storedChatReceipts(
  store: MlsStore,
  groupId: string,
  maxDevices = RECEIPT_MAX_DEVICES,
): Promise<ChatReceipts> {
  const record = await store.group(groupId);
  if (!record) return { on: false, reason: 'not_joined', maxDevices };
  return receiptsFor(groupMembers(importGroupStateParts(record.state)).length, maxDevices);
}

/**
 * Whether receipts work in a chat on this device: `on`, or off because the chat has more devices than
 * `maxDevices` (`large_group`: nobody there sees deliveries or reads; the person's own devices still
 * share the read position), because the app allows none there (`not_allowed`: a message request), or
 * because this device is not in the chat's group (yet).
 */
export type ChatReceipts =
  | { on: true; devices: number; maxDevices: number }
  | { on: false; reason: 'large_group'; devices: number; maxDevices: number }
  | { on: false; reason: 'not_allowed' | 'not_joined'; maxDevices: number };

/** A decrypted application message, read: exactly one of these is set. */
interface ReadApplication {
  message?: StoredMessage;
  receipt?: ReceiptContent;
  action?: MessageAction;
  /** A channel's signing key handed over by its owner (never shown, never kept in the history). */
  channelKey?: ChannelKeyContent;
  failure?: { code: string; message: string };
}

/**
 * Runs `work` once the work queued before it under `key` has settled (resolved or failed), and
 * queues it in turn; the map forgets a key whose queue ran empty.
 */
function afterQueued<T>(queues: Map<string, Promise<void>>, key: string, work: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.then(work, work);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return run;
}

function bytesOf(text: string, what: string): Uint8Array {
  const bytes = fromBase64(text);
  if (bytes === undefined)
    throw new CourierError('MLS_MALFORMED', { message: `The server sent a malformed ${what}.` });
  return bytes;
}

/**
 * A device of Courier with end-to-end encryption: every chat is an MLS group (RFC 9420) and the server
 * only ever sees ciphertext. It keeps the device's identity and key packages published, joins chats
 * from Welcomes, decrypts entries in log order exactly once, and commits the Adds and Removes that
 * keep each chat's group in step with its roster. State is saved after every operation, atomically
 * with the messages it produced, so a crash loses nothing and shows nothing twice.
 */
export class SecureClient extends Emitter<SecureClientEvents> {
  readonly http: CourierHttp;
  readonly connection: CourierConnection;
  private context!: MlsClientContext;
  private identity!: DeviceIdentity;
  private directory!: DeviceDirectory;
  /** Each chat's group as loaded or saved at a stored version, with the parts it was saved as. */
  private readonly cache = new Map<string, { version: number; group: MlsGroup; parts: GroupStateParts }>();
  /** Per chat, the tail of the queue of commit-making work (see `exclusive`). */
  private readonly commitQueues = new Map<string, Promise<void>>();
  /**
   * Per chat, the tail of the queue of work that reads the group state, moves it on and saves it
   * (an entry processed, content encrypted): in one process these take turns instead of racing,
   * since a lost race throws the work away (see `inTurn`).
   */
  private readonly stateTurns = new Map<string, Promise<void>>();
  private started = false;
  private readonly receipts: ReceiptTracker;

  constructor(private readonly options: SecureClientOptions) {
    super();
    this.receipts = new ReceiptTracker({
      store: options.store,
      accountId: options.accountId,
      send: (groupId, receipt) => this.queueContent(groupId, receipt),
      allowed: (groupId) => this.receiptScope(groupId),
      syncOwn: (groupId, upToSeq) => this.syncOwnRead(groupId, upToSeq),
      events: {
        status: (event) => this.emit('status', event),
        unread: (event) => this.emit('unread', event),
        problem: (error) => this.emit('problem', error),
        wantsUnread: () => this.listens('unread'),
      },
      readReceipts: options.readReceipts ?? true,
      delayMs: options.receiptDelayMs ?? 250,
    });
    this.http = new CourierHttp(options.url, options.token);
    this.connection = new CourierConnection({
      ...options,
      store: options.store,
      onEntry: (entry) => this.onEntry(entry),
      onEntryRun: (entries) => this.onEntryRun(entries),
      onMailboxItem: (item) => this.onMailboxItem(item),
    });
    this.connection.on('problem', (problem) => this.emit('problem', problem));
    this.connection.on('fatal', (error) => this.emit('fatal', error));
    this.connection.on('state', (state) => this.emit('state', state));
  }

  get accountId(): string {
    return this.options.accountId;
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  /**
   * Sets up the device's identity and key packages (first run), then connects; the connection comes
   * up (and reconnects) by itself: sends wait in the outbox meanwhile (see `ready`).
   */
  async start(): Promise<void> {
    if (this.started) return;
    await this.prepare();
    await this.resumePendingCommits();
    this.started = true;
    this.connection.start();
    void this.receipts.enableSending();
    this.connection.on('ready', () => void this.syncGroups());
  }

  /**
   * After (re)connecting: commits what chats need from this device. A device of this account that
   * is not in a chat's group yet (signed in since) is added by any of the account's devices; other
   * members' missing devices (registered since the chat was made) and devices that left are handled
   * by admins, and by either person in a direct chat.
   */
  async syncGroups(): Promise<void> {
    try {
      const chats = await this.http.groups();
      for (const chat of chats) {
        if (!(await this.stored(chat.groupId))) continue;
        const view = await this.mlsView(chat.groupId);
        const mine = view.missing.some((m) => m.accountId === this.accountId);
        const responsible = chat.kind === 'direct' || chat.myRole !== 'member';
        if (mine || (responsible && (view.missing.length > 0 || view.stale.length > 0)))
          await this.reconcile(chat.groupId);
      }
    } catch (error) {
      if (this.connection.state !== 'stopped')
        this.emit(
          'problem',
          error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error }),
        );
    }
  }

  /** Resolves once the connection is authenticated and resuming. */
  ready(): Promise<void> {
    return this.connection.ready();
  }

  /** Identity, certificate and key packages, without connecting. */
  async prepare(): Promise<void> {
    const { store } = this.options;
    const server = await this.http.call<ServerKeyReply>('GET', '/v1/mls/server-key');
    const serverKey = decodeKey(server.certificationKey);
    if (!serverKey) throw new CourierError('MLS_CERTIFICATE_INVALID');
    let stored = await store.identity();
    if (stored && (stored.accountId !== this.accountId || stored.deviceId !== this.deviceId)) {
      throw new CourierError('REQ_INVALID', { message: 'This store belongs to another device.' });
    }
    if (stored && toBase64(stored.certificationKey) !== toBase64(serverKey)) {
      throw new CourierError('MLS_CERTIFICATE_INVALID', {
        message: 'The server’s device-certification key changed since this device first saw it.',
      });
    }
    if (!stored) {
      const fresh = await generateDeviceIdentity(this.accountId, this.deviceId);
      stored = { ...fresh, certificationKey: serverKey };
      await store.saveIdentity(stored);
    }
    this.identity = {
      accountId: stored.accountId,
      deviceId: stored.deviceId,
      ciphersuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
      signaturePublicKey: stored.signaturePublicKey,
      signaturePrivateKey: stored.signaturePrivateKey,
    };
    const certificate = await this.http.call<DeviceCertificate>('PUT', '/v1/me/device/credential', {
      signaturePublicKey: toBase64(stored.signaturePublicKey),
    });
    this.directory = new DeviceDirectory(this.http, store, serverKey, (change) =>
      this.emit('key_change', change),
    );
    await this.directory.learn([certificate]);
    this.context = await createMlsClientContext({
      validateCredential: (identity, key) =>
        this.directory.isCertified(identity.accountId, identity.deviceId, key),
    });
    await this.topUpKeyPackages();
  }

  async stop(): Promise<void> {
    // Receipts gathered so far go to the outbox (and out with the next run), not lost.
    await this.receipts.flush();
    await this.connection.stop();
  }

  /** Keeps the stock of one-time key packages, and a last-resort one, published. */
  async topUpKeyPackages(): Promise<KeyPackageStockReply> {
    const target = this.options.keyPackageStock ?? 20;
    const stock = await this.http.call<KeyPackageStockReply>('GET', '/v1/me/device/key-packages');
    const wanted = stock.oneTime < target / 2 ? target - stock.oneTime : 0;
    if (wanted === 0 && stock.lastResort) return stock;
    const fresh = [];
    for (let i = 0; i < wanted; i++) fresh.push(await createKeyPackage(this.context, this.identity));
    const lastResort = stock.lastResort
      ? undefined
      : await createKeyPackage(this.context, this.identity, { lastResort: true });
    // The private halves are stored before the public ones are published.
    await this.options.store.addKeyPackages(lastResort ? [...fresh, lastResort] : fresh);
    return this.http.call<KeyPackageStockReply>('POST', '/v1/me/device/key-packages', {
      keyPackages: fresh.map((kp) => toBase64(kp.keyPackage)),
      ...(lastResort ? { lastResort: toBase64(lastResort.keyPackage) } : {}),
    });
  }

  /** Creates a group chat and adds the members' devices (and this account's other devices). */
  async createGroup(title: string, memberIds: string[]): Promise<GroupDetailView> {
    const chat = await this.http.createGroup(title, memberIds);
    await this.startGroup(chat.groupId);
    return chat;
  }

  /** Opens (or finds) the direct chat with another person. */
  async openDirect(accountId: string): Promise<GroupDetailView> {
    const chat = await this.http.openDirect(accountId);
    const view = await this.mlsView(chat.groupId);
    if (!(await this.stored(chat.groupId)) && view.epoch === 0 && view.leaves[0]?.deviceId === this.deviceId)
      await this.startGroup(chat.groupId);
    return chat;
  }

  /** Adds people to a group (admins): the roster first, then their devices by an MLS commit. */
  async addMembers(groupId: string, accountIds: string[]): Promise<GroupDetailView> {
    const chat = await this.http.addMembers(groupId, accountIds);
    await this.reconcile(groupId);
    return chat;
  }

  /** Removes a person from a group (admins): off the roster, then their devices out of the tree. */
  async removeMember(groupId: string, accountId: string): Promise<void> {
    await this.http.removeMember(groupId, accountId);
    await this.reconcile(groupId);
  }

  /**
   * Leaves a chat: the server stops delivering it at once; an admin's device commits the removal (in
   * a direct chat, the other person's device). Leaving a direct chat ends the contact; leaving a
   * message request declines it, silently.
   */
  async leave(groupId: string): Promise<void> {
    await this.http.leave(groupId);
    await this.forget(groupId);
  }

  /**
   * My chats. A message request (a direct chat someone else opened that I have not accepted) is
   * marked `request: true`, for a UI to list apart; its messages decrypt like any other chat's.
   */
  chats(): Promise<GroupView[]> {
    return this.http.groups();
  }

  /**
   * Message requests and group invitations waiting for me (GET /v1/requests). A request's chat is
   * also in `http.groups()`, marked `request: true`, and its messages decrypt like any other.
   */
  requests(): Promise<RequestView[]> {
    return this.http.requests();
  }

  /**
   * Accepts a message request (the opener becomes a contact) or a group invitation (I go on the
   * roster; an admin's device then adds my devices to the encryption group and I read what follows).
   */
  acceptRequest(groupId: string): Promise<GroupDetailView> {
    return this.http.acceptRequest(groupId);
  }

  /** Declines a message request or an invitation; the sender is not told. Drops the chat's keys here. */
  async declineRequest(groupId: string): Promise<void> {
    await this.http.declineRequest(groupId);
    await this.forget(groupId);
  }

  /** Blocks a person (silent to them); the direct chat with them goes from this device, as declined. */
  async block(accountId: string): Promise<void> {
    const direct = (await this.http.groups()).filter((g) => g.kind === 'direct');
    await this.http.block(accountId);
    const after = new Set((await this.http.groups()).map((g) => g.groupId));
    for (const chat of direct) if (!after.has(chat.groupId)) await this.forget(chat.groupId);
  }

  unblock(accountId: string): Promise<void> {
    return this.http.unblock(accountId);
  }

  private async forget(groupId: string): Promise<void> {
    if (await this.stored(groupId)) await this.options.store.deleteGroup(groupId);
    this.cache.delete(groupId);
  }

  /**
   * Renews this device's keys in a chat (post-compromise security). When another commit wins the
   * epoch, it catches up and tries again.
   */
  updateKeys(groupId: string): Promise<void> {
    return this.exclusive(groupId, () => this.updateKeysNow(groupId));
  }

  private async updateKeysNow(groupId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const view = await this.mlsView(groupId);
      await this.catchUp(groupId, view.epoch);
      try {
        await this.commitWith(groupId, async (group) => [await selfUpdate(this.context, group)], view.epoch);
        return;
      } catch (error) {
        if (!(error instanceof CourierError && error.code === 'MSG_STALE_EPOCH') || attempt >= 10)
          throw error;
      }
    }
  }

  /** Encrypts and sends a text; resolves once the server stored it durably. */
  async sendText(groupId: string, text: string, clientMsgId = randomClientMsgId()): Promise<Accepted> {
    return (await this.queueText(groupId, text, clientMsgId)).accepted;
  }

  /**
   * Encrypts a text and puts it in the outbox; resolves once it is stored there (from then on it
   * goes out, also after a restart), with `accepted`, which resolves once the server stored it.
   * Texts queued one after another go out in that order.
   */
  async queueText(
    groupId: string,
    text: string,
    clientMsgId = randomClientMsgId(),
  ): Promise<{ accepted: Promise<Accepted> }> {
    const sentAtMs = Date.now();
    return this.queueContent(groupId, { v: 1, type: 'text', text, sentAtMs }, clientMsgId);
  }

  /**
   * Sends a file message (media/): the ciphertext was uploaded with `uploadEncryptedFile`, and this
   * carries its pointer, key and digest to the chat's members inside MLS.
   */
  async sendFile(
    groupId: string,
    file: FileDescriptor,
    clientMsgId = randomClientMsgId(),
  ): Promise<Accepted> {
    return (await this.queueContent(groupId, { v: 1, type: 'file', file, sentAtMs: Date.now() }, clientMsgId))
      .accepted;
  }

  /**
   * Sends a sticker: a reference to a sticker of a public pack (its short name, index and emoji),
   * never the image, which each receiver fetches from the pack.
   */
  async sendSticker(
    groupId: string,
    sticker: StickerRef,
    clientMsgId = randomClientMsgId(),
  ): Promise<Accepted> {
    return (await this.queueSticker(groupId, sticker, clientMsgId)).accepted;
  }

  /**
   * Sends a channel's secret key into a chat (end to end; never kept in the chat's history): see
   * `ChannelClient.handOverKey`, which builds the content.
   */
  async sendChannelKey(groupId: string, content: ChannelKeyContent): Promise<Accepted> {
    return (await this.queueContent(groupId, content)).accepted;
  }

  /** Puts a sticker message in the outbox (as `queueText` does a text). */
  queueSticker(
    groupId: string,
    sticker: StickerRef,
    clientMsgId = randomClientMsgId(),
  ): Promise<{ accepted: Promise<Accepted> }> {
    return this.queueContent(groupId, { v: 1, type: 'sticker', sticker, sentAtMs: Date.now() }, clientMsgId);
  }

  /**
   * Encrypts content of any known type and puts it in the outbox. Content that is shown (a text, a file) is
   * kept in the chat's history in the same step; a receipt is not.
   */
  private queueContent(
    groupId: string,
    content: AnyContent | Uint8Array,
    clientMsgId = randomClientMsgId(),
  ): Promise<{ accepted: Promise<Accepted> }> {
    return this.inTurn(groupId, () => this.queueContentNow(groupId, content, clientMsgId));
  }

  private async queueContentNow(
    groupId: string,
    content: AnyContent | Uint8Array,
    clientMsgId: string,
  ): Promise<{ accepted: Promise<Accepted> }> {
    const plaintext = content instanceof Uint8Array ? content : writeContent(content);
    for (;;) {
      const record = await this.stored(groupId);
      if (!record) throw new CourierError('MLS_GROUP_NOT_READY');
      const group = this.load(groupId, record);
      if (!group.active) throw new CourierError('MLS_NOT_MEMBER');
      const encrypted = await encryptMessage(this.context, group, plaintext);
      const sender = {
        groupId,
        seq: 0,
        clientMsgId,
        senderAccountId: this.accountId,
        senderDeviceId: this.deviceId,
      };
      const messages: StoredMessage[] =
        content instanceof Uint8Array ||
        content.type === 'receipt' ||
        content.type === 'channel-key' ||
        isActionContent(content)
          ? []
          : [{ ...sender, outgoing: true, ...shownMessage(content) }];
      // This device's own edit, deletion or reaction shows here at once, as on the others.
      const actions =
        !(content instanceof Uint8Array) && isActionContent(content) ? [actionOf(sender, content)] : [];
      // The advanced sending state, the message and the outbox item are saved together before the
      // ciphertext leaves: a crash can neither reuse a key nor lose the message.
      const saved = await this.save(groupId, record, encrypted.group, {
        messages,
        actions,
        outbox: { kind: 'group', target: groupId, clientMsgId, payload: encrypted.message },
      });
      if (!saved) continue; // another process of this device moved the group on: encrypt again
      eraseSecrets(encrypted.consumed);
      const accepted = this.connection.send(groupId, encrypted.message, clientMsgId);
      if (messages.length > 0)
        accepted.then(
          async ({ seq }) => {
            await this.options.store.acceptSent(groupId, { senderDeviceId: this.deviceId, clientMsgId, seq });
            this.emit('status', { groupId, status: 'stored', upToSeq: seq, clientMsgId });
          },
          () => {},
        );
      // The caller may look at `accepted` later (or, after a stop, never): no unhandled rejection.
      accepted.catch(() => {});
      return { accepted };
    }
  }

  /**
   * The message a person points at in a chat: by its log position as history shows it (`12` or
   * `#12`), or by its client message id. CourierError MSG_UNKNOWN_MESSAGE when this device keeps
   * no such message.
   */
  async findMessage(groupId: string, id: string | number | MessageRef): Promise<StoredMessage> {
    const { store } = this.options;
    let found: StoredMessage | undefined;
    if (typeof id === 'object') found = await store.message(groupId, id);
    else {
      const text = String(id).replace(/^#/, '');
      const all = (await store.messages(groupId)).filter((m) => m.roster === undefined);
      found = /^[1-9][0-9]{0,15}$/.test(text)
        ? all.find((m) => m.seq === Number(text))
        : all.find((m) => m.clientMsgId === text);
    }
    if (!found) throw new CourierError('MSG_UNKNOWN_MESSAGE');
    return found;
  }

  /** Sends a text that answers (quotes) a message of the chat. */
  async reply(
    groupId: string,
    to: MessageRef,
    text: string,
    clientMsgId = randomClientMsgId(),
  ): Promise<Accepted> {
    const target = await this.findMessage(groupId, to);
    const quote = target.deleted
      ? ''
      : (target.text || (target.file ? target.file.name : '')).slice(0, MAX_QUOTE_LENGTH);
    const content = {
      v: 1,
      type: 'reply',
      text,
      sentAtMs: Date.now(),
      replyTo: { ...refOf(target), quote },
    } as const;
    return (await this.queueContent(groupId, content, clientMsgId)).accepted;
  }

  /**
   * Forwards a text or a file message to another chat: this client encrypts it again for that chat
   * (the server never holds a copy to pass on), marked with who wrote it first. A file's blob is first
   * bound to that chat too (this account is a member of both), so its members can fetch the same
   * ciphertext; pointer, key, digest and preview travel inside the new MLS message as before.
   */
  async forward(fromGroupId: string, ref: MessageRef, toGroupId: string): Promise<Accepted> {
    const source = await this.findMessage(fromGroupId, ref);
    if (source.deleted || source.roster || (source.text.length === 0 && source.file === undefined))
      throw new CourierError('MSG_NOT_ACTIONABLE', {
        message: 'Only a text or a file message can be forwarded.',
      });
    const from = source.forwarded ?? { accountId: source.senderAccountId, sentAtMs: source.sentAtMs };
    const sentAtMs = Date.now();
    if (source.file) {
      // Only once this device can encrypt for the target chat: no grant for a message that cannot go.
      const target = await this.options.store.group(toGroupId);
      if (!target) throw new CourierError('MLS_GROUP_NOT_READY');
      if (!this.load(toGroupId, target).active) throw new CourierError('MLS_NOT_MEMBER');
      await this.http.grantMedia(source.file.blobId, toGroupId);
      const content = { v: 1, type: 'forward', text: '', file: source.file, sentAtMs, from } as const;
      return (await this.queueContent(toGroupId, content)).accepted;
    }
    const content = { v: 1, type: 'forward', text: source.text, sentAtMs, from } as const;
    return (await this.queueContent(toGroupId, content)).accepted;
  }

  /** Changes the text of a message this account sent; it shows "edited" everywhere, the earlier text stays on devices. */
  async edit(groupId: string, ref: MessageRef, text: string): Promise<Accepted> {
    const target = await this.ownMessage(groupId, ref);
    if (target.file || target.unsupported)
      throw new CourierError('MSG_NOT_ACTIONABLE', { message: 'Only a text can be edited.' });
    const content = { v: 1, type: 'edit', target: refOf(target), text, sentAtMs: Date.now() } as const;
    return (await this.queueContent(groupId, content)).accepted;
  }

  /**
   * Deletes a message this account sent, for everyone: gone at once here, and on every member's device
   * that honours it. `notice` says plainly what cannot be guaranteed (show it to the person).
   */
  async deleteForEveryone(groupId: string, ref: MessageRef): Promise<{ accepted: Accepted; notice: string }> {
    const target = await this.ownMessage(groupId, ref);
    const content = { v: 1, type: 'delete', target: refOf(target), sentAtMs: Date.now() } as const;
    const accepted = await (await this.queueContent(groupId, content)).accepted;
    return { accepted, notice: DELETE_FOR_EVERYONE_NOTICE };
  }

  /** Adds an emoji reaction of this account to a message. */
  react(groupId: string, ref: MessageRef, emoji: string): Promise<Accepted> {
    return this.reaction(groupId, ref, emoji, true);
  }

  /** Takes back this account's emoji reaction to a message. */
  unreact(groupId: string, ref: MessageRef, emoji: string): Promise<Accepted> {
    return this.reaction(groupId, ref, emoji, false);
  }

  private async reaction(groupId: string, ref: MessageRef, emoji: string, on: boolean): Promise<Accepted> {
    const target = await this.findMessage(groupId, ref);
    if (target.deleted || target.roster)
      throw new CourierError('MSG_NOT_ACTIONABLE', { message: 'A deleted message takes no reactions.' });
    const content = {
      v: 1,
      type: 'reaction',
      target: refOf(target),
      emoji,
      on,
      sentAtMs: Date.now(),
    } as const;
    return (await this.queueContent(groupId, content)).accepted;
  }

  /** A message of this account (edit, delete): MSG_NOT_SENDER for another person's, MSG_NOT_ACTIONABLE once deleted. */
  private async ownMessage(groupId: string, ref: MessageRef): Promise<StoredMessage> {
    const target = await this.findMessage(groupId, ref);
    if (target.senderAccountId !== this.accountId || target.roster) throw new CourierError('MSG_NOT_SENDER');
    if (target.deleted)
      throw new CourierError('MSG_NOT_ACTIONABLE', { message: 'That message was deleted.' });
    return target;
  }

  /**
   * Encrypts and sends bytes as they are, whatever content they hold: for tests and tools that play
   * a client of another version (a type this one does not know). Nothing is kept in the history.
   */
  async dangerouslySendRawContent(groupId: string, plaintext: Uint8Array): Promise<Accepted> {
    return (await this.queueContent(groupId, plaintext)).accepted;
  }

  /** The messages this device holds for a chat, in order. */
  messages(groupId: string): Promise<StoredMessage[]> {
    return this.options.store.messages(groupId);
  }

  /**
   * A report of a chat built from this device's own decrypted history (by default its last
   * messages): show `draft.body` to the person, and send it with `sendReport` only if they agree.
   */
  async draftReport(groupId: string, choice: ReportChoice): Promise<ReportDraft> {
    return draftReport(groupId, await this.options.store.messages(groupId), choice);
  }

  /** Sends a report the person saw and agreed to; nothing else of the chat leaves the device. */
  sendReport(draft: ReportDraft): Promise<{ reportId: string; receivedAtMs: number }> {
    return this.http.fileReport(draft.body);
  }

  /**
   * A page of the chat's history from this device's store, newest first (`before` from the page
   * before; at most 500): sent messages carry their status. Reads only the page.
   */
  async history(groupId: string, page: { before?: HistoryCursor; limit: number }): Promise<HistoryPage> {
    const [found, state] = await Promise.all([
      this.options.store.history(groupId, page),
      this.options.store.chatState(groupId),
    ]);
    return {
      ...found,
      messages: found.messages.map((m) =>
        m.outgoing ? { ...m, status: messageStatus(m.seq, state, this.receipts.readReceipts) } : m,
      ),
    };
  }

  /** Received messages of the chat the person has not read (on any of their devices). */
  unreadCount(groupId: string): Promise<number> {
    return this.options.store.unreadCount(groupId);
  }

  /** What receipts told this device about the chat. */
  chatState(groupId: string): Promise<ChatState> {
    return this.options.store.chatState(groupId);
  }

  /**
   * The person read the chat up to this position: the unread count drops here and on the person's
   * other devices, and (read receipts on, the chat not a message request) the others see "read".
   * Sent in a batch with other receipts of the chat; reading up to where it was read is a no-op.
   */
  markRead(groupId: string, upToSeq: number): Promise<void> {
    return this.receipts.markRead(groupId, upToSeq);
  }

  /** Turns read receipts on or off, both ways (the app keeps the choice, e.g. in its settings). */
  setReadReceipts(on: boolean): void {
    this.receipts.setReadReceipts(on);
  }

  /**
   * Sends the gathered receipts now (they go out by themselves shortly after; an app may call this
   * before it is put in the background).
   */
  flushReceipts(): Promise<void> {
    return this.receipts.flush();
  }

  /**
   * Whether receipts work in the chat on this device (for the app to say so: "Receipts are off in
   * groups of more than 100 devices", `receiptsOffText`, instead of ticks that never come). Not in a
   * chat the app refuses (a message request), nor in a crowd: there the person's read position goes
   * to their own other devices only.
   */
  async receiptsInChat(groupId: string): Promise<ChatReceipts> {
    const maxDevices = this.options.receiptMaxDevices ?? RECEIPT_MAX_DEVICES;
    if (this.options.receiptsAllowed && !(await this.options.receiptsAllowed(groupId)))
      return { on: false, reason: 'not_allowed', maxDevices };
    const record = await this.stored(groupId);
    if (!record) return { on: false, reason: 'not_joined', maxDevices };
    return receiptsFor(groupMembers(this.load(groupId, record)).length, maxDevices);
  }

  private async receiptScope(groupId: string): Promise<ReceiptScope> {
    const receipts = await this.receiptsInChat(groupId);
    return receipts.on ? 'chat' : receipts.reason === 'large_group' ? 'own_devices' : 'none';
  }

  /**
   * The person read the chat up to `upToSeq` where no read receipt goes into it (a crowd, or read receipts
   * turned off): sealed for the chat's group at its
   * current epoch and put in the mailbox of each of the account's other devices in the group (see
   * read-sync.ts). Nobody else gets anything.
   */
  private async syncOwnRead(groupId: string, upToSeq: number): Promise<void> {
    const record = await this.stored(groupId);
    if (!record) return;
    const group = this.load(groupId, record);
    const others = groupMembers(group).flatMap((m) =>
      m.accountId === this.accountId && m.deviceId !== undefined && m.deviceId !== this.deviceId
        ? [m.deviceId]
        : [],
    );
    if (others.length === 0) return;
    const epoch = Number(group.epoch);
    const key = await exportSecret(
      this.context,
      group,
      READ_SYNC_LABEL,
      encoder.encode(groupId),
      READ_SYNC_KEY_BYTES,
    );
    const { signature } = this.context.library.cipherSuite;
    const payload = await sealReadSync(key, { groupId, epoch, upToSeq }, this.deviceId, (bytes) =>
      signature.sign(this.identity.signaturePrivateKey, bytes),
    );
    key.fill(0);
    await Promise.all(others.map((deviceId) => this.connection.sendToDevice(deviceId, payload)));
  }

  /**
   * A read position from one of the person's own devices (a `device` mailbox item): applied when it
   * opens under the chat's group at its epoch. One sealed at a later epoch than this device has
   * reached waits until it got there; one from an earlier epoch is dropped (the next read carries
   * the position on: it only ever moves forward).
   */
  private async onReadSync(item: MailboxItemFrame, envelope: ReadSyncEnvelope): Promise<void> {
    // The mailbox takes items from the account itself and from people it shares a chat with: only the
    // former may move the read position (and the key is the chat's, known to its members only).
    if (item.senderAccountId !== this.accountId || item.senderDeviceId === this.deviceId) return;
    const mine = await this.epoch(envelope.groupId);
    if (mine === undefined || mine > envelope.epoch) return;
    if (mine < envelope.epoch) {
      // The chat's log is processed on this same connection: wait for it outside of this item.
      void this.catchUp(envelope.groupId, envelope.epoch)
        .then(() => this.openReadSyncNow(item, envelope))
        .catch(() => {});
      return;
    }
    await this.openReadSyncNow(item, envelope);
  }

  private async openReadSyncNow(item: MailboxItemFrame, envelope: ReadSyncEnvelope): Promise<void> {
    const record = await this.stored(envelope.groupId);
    if (!record) return;
    const group = this.load(envelope.groupId, record);
    if (Number(group.epoch) !== envelope.epoch) return;
    // Signed by the sending device's MLS key, as its leaf in this device's tree has it: another member
    // (who can derive the same exporter key) cannot forge a position.
    const sender = groupMembers(group).find(
      (m) => m.accountId === this.accountId && m.deviceId === item.senderDeviceId,
    );
    const signed =
      sender !== undefined &&
      (await this.context.library.cipherSuite.signature
        .verify(sender.signaturePublicKey, signedPart(envelope, item.senderDeviceId), envelope.sig)
        .catch(() => false));
    if (!signed) {
      this.emit(
        'problem',
        new CourierError('MLS_MALFORMED', {
          message: 'A read position from another device of this account is not signed by it.',
        }),
      );
      return;
    }
    const key = await exportSecret(
      this.context,
      group,
      READ_SYNC_LABEL,
      encoder.encode(envelope.groupId),
      READ_SYNC_KEY_BYTES,
    );
    const upToSeq = await openReadSync(key, envelope, item.senderDeviceId);
    key.fill(0);
    if (upToSeq === undefined) {
      this.emit(
        'problem',
        new CourierError('MLS_MALFORMED', {
          message: 'A read position from another device of this account did not open.',
        }),
      );
      return;
    }
    await this.receipts.applyOwnRead(envelope.groupId, upToSeq);
  }

  /** The safety number this account shares with another (compare it out of band). */
  async safetyNumber(accountId: string): Promise<string> {
    await this.directory.prefetch([accountId, this.accountId]);
    return this.directory.safetyNumber(this.accountId, accountId);
  }

  /** The chat's MLS epoch on this device, or undefined before it joined. */
  async epoch(groupId: string): Promise<number | undefined> {
    const record = await this.stored(groupId);
    return record === undefined ? undefined : Number(this.load(groupId, record).epoch);
  }

  /** The accounts and devices in the chat's group as this device's tree has them. */
  async members(groupId: string): Promise<{ accountId: string | undefined; deviceId: string | undefined }[]> {
    const record = await this.stored(groupId);
    if (!record) return [];
    return groupMembers(this.load(groupId, record)).map(({ accountId, deviceId }) => ({
      accountId,
      deviceId,
    }));
  }

  /**
   * Commits whatever the roster calls for: Removes of devices that left, then Adds of members'
   * devices not yet in the group. Retries after catching up when another commit won the epoch.
   * One commit-making operation per chat at a time on this client (`exclusive`): two at once (say the
   * creation of a group and the sync that follows a reconnect) would claim the same people's key
   * packages twice, and the commit that loses the epoch would burn the packages it claimed, leaving
   * offline members out of the group until they publish more.
   */
  reconcile(groupId: string): Promise<void> {
    return this.exclusive(groupId, () => this.reconcileNow(groupId));
  }

  private async reconcileNow(groupId: string): Promise<void> {
    // Key packages claimed for a commit that lost the epoch are still unused: kept for the retry.
    const unused = new Map<string, ClaimedKeyPackage>();
    for (let attempt = 0; attempt < 5; attempt++) {
      const view = await this.mlsView(groupId);
      await this.catchUp(groupId, view.epoch);
      try {
        if (view.stale.length > 0) {
          await this.commitWith(
            groupId,
            async (group) => [await removeMembers(this.context, group, view.stale)],
            view.epoch,
          );
          continue;
        }
        if (view.missing.length === 0) return;
        const fresh = await this.claim(view.missing.filter((d) => !unused.has(d.deviceId)));
        await this.directory.learn(fresh.map((k) => k.certificate));
        for (const k of fresh) unused.set(k.deviceId, k);
        const stillMissing = new Set(view.missing.map((d) => d.deviceId));
        const claimed = [...unused.values()].filter((k) => stillMissing.has(k.deviceId));
        if (claimed.length === 0) return; // nobody to add has published a key package yet
        await this.commitWith(
          groupId,
          async (group) =>
            addMembers(
              this.context,
              group,
              claimed.map((k) => bytesOf(k.keyPackage, 'key package')),
              this.options.maxAddsPerCommit === undefined
                ? {}
                : { maxPerCommit: this.options.maxAddsPerCommit },
            ),
          view.epoch,
        );
        return;
      } catch (error) {
        if (
          error instanceof CourierError &&
          (error.code === 'MSG_STALE_EPOCH' || error.code === 'MLS_ROSTER_MISMATCH')
        )
          continue; // someone else committed first: catch up and look again
        throw error;
      }
    }
  }

  /** Claims a key package for each of these devices, 500 accounts per call. */
  private async claim(devices: MlsGroupView['missing']): Promise<ClaimKeyPackagesReply['keyPackages']> {
    const byAccount = new Map<string, string[]>();
    for (const d of devices) byAccount.set(d.accountId, [...(byAccount.get(d.accountId) ?? []), d.deviceId]);
    const accounts = [...byAccount.keys()];
    const claimed: ClaimKeyPackagesReply['keyPackages'] = [];
    for (let i = 0; i < accounts.length; i += 500) {
      const chunk = accounts.slice(i, i + 500);
      const reply = await this.http.call<ClaimKeyPackagesReply>('POST', '/v1/mls/key-packages/claim', {
        accountIds: chunk,
        deviceIds: chunk.flatMap((id) => byAccount.get(id)!),
      });
      claimed.push(...reply.keyPackages);
    }
    return claimed;
  }

  private async mlsView(groupId: string): Promise<MlsGroupView> {
    return this.http.call<MlsGroupView>('GET', `/v1/groups/${encodeURIComponent(groupId)}/mls`);
  }

  /** Starts a chat's group with this device alone at epoch 0, then adds everyone the roster names. */
  private async startGroup(groupId: string): Promise<void> {
    const group = await createGroup(this.context, this.identity, encoder.encode(groupId));
    const parts = exportGroupStateParts(group);
    if (
      await this.options.store.saveGroup(
        groupId,
        { state: groupStateChange(undefined, parts), seq: 0 },
        undefined,
      )
    )
      this.cache.set(groupId, { version: 1, group, parts });
    await this.reconcile(groupId);
  }

  /** Waits until this device's group reached the epoch (entries arrive through the connection). */
  private async catchUp(groupId: string, epoch: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mine = await this.epoch(groupId);
      if (mine === undefined) throw new CourierError('MLS_GROUP_NOT_READY');
      if (mine >= epoch) return;
      if (Date.now() > deadline)
        throw new CourierError('SERVER_UNAVAILABLE', {
          message: 'Could not catch up with the chat in time.',
        });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Makes commits from the current group and submits them in order. Each one's result is saved as
   * pending before it is sent (a crash then still knows the state its accepted commit leads to), and
   * adopted once the server accepted it.
   */
  private async commitWith(
    groupId: string,
    make: (group: MlsGroup) => Promise<CommitResult[]>,
    expectedEpoch?: number,
  ): Promise<void> {
    let record = await this.stored(groupId);
    if (!record) throw new CourierError('MLS_GROUP_NOT_READY');
    const group = this.load(groupId, record);
    if (expectedEpoch !== undefined && Number(group.epoch) !== expectedEpoch)
      throw new CourierError('MSG_STALE_EPOCH');
    const results = await make(group);
    for (const result of results) {
      const clientMsgId = randomClientMsgId();
      // The state stays; the commit's result is kept beside it until the server accepts it, as what it
      // changes (the secret part and the changed tree pages), not whole, with the commit and Welcome
      // (submitted again after a restart: see `resumePendingCommits`).
      const parts = exportGroupStateParts(result.group, record.state);
      const submission = { commit: result.commit, ...(result.welcome ? { welcome: result.welcome } : {}) };
      const withPending = {
        seq: record.seq,
        pending: { clientMsgId, state: encodePendingCommit(record.state, parts, submission) },
      };
      if (!(await this.options.store.saveGroup(groupId, withPending, record.version)))
        throw new CourierError('MSG_STALE_EPOCH');
      this.stateKept(groupId, record.version);
      record = { ...record, ...withPending, version: record.version + 1 };
      const adopted = await this.submitPending(groupId, record, clientMsgId, parts, submission, () =>
        result.welcome ? (result.ratchetTree ?? exportRatchetTree(result.group)) : undefined,
      );
      if (!adopted) throw new CourierError('MSG_STALE_EPOCH');
      record = adopted;
      this.cache.set(groupId, { version: adopted.version, group: result.group, parts });
      eraseSecrets(result.consumed);
      this.emit('epoch', { groupId, epoch: Number(result.group.epoch) });
    }
  }

  /**
   * Submits a pending commit (saved in `record`) and adopts it once the server accepted it, also when
   * it answers that it had accepted it before (the same client message id); forgets it when the server
   * refuses it for good (then throws). Returns the record with the commit adopted, or undefined when
   * the stored pending commit is no longer this one (another process of the device settled it).
   */
  private async submitPending(
    groupId: string,
    record: GroupRecord,
    clientMsgId: string,
    parts: GroupStateParts,
    submission: PendingSubmission,
    ratchetTree: () => Uint8Array | undefined,
  ): Promise<GroupRecord | undefined> {
    const tree = submission.welcome ? ratchetTree() : undefined;
    try {
      await this.http.call<SubmitCommitReply>(
        'POST',
        `/v1/groups/${encodeURIComponent(groupId)}/mls/commits`,
        {
          clientMsgId,
          commit: toBase64(submission.commit),
          ...(submission.welcome && tree
            ? { welcome: toBase64(submission.welcome), ratchetTree: toBase64(tree) }
            : {}),
        },
      );
    } catch (error) {
      if (error instanceof CourierError && error.status < 500) {
        // Refused for good: forget the pending state.
        await this.options.store.saveGroup(groupId, { seq: record.seq }, record.version);
      }
      throw error;
    }
    return this.adoptPending(groupId, clientMsgId, parts);
  }

  /**
   * Settles the commits this device saved as pending and did not see answered (it stopped, or crashed,
   * between saving one and recording the server's answer). The server never sends a device its own
   * entries, so nothing else would: each is submitted again with the same client message id. The
   * server answers one it accepted before as a duplicate and accepts one it never got (both adopted),
   * or refuses one whose epoch moved on (forgotten: the chat's entries bring the other commit). Runs
   * before the connection delivers entries, which are read at the epoch the commit led to.
   */
  private async resumePendingCommits(): Promise<void> {
    const { store } = this.options;
    for (const groupId of await store.pendingGroupIds()) {
      const record = await this.stored(groupId);
      const pending = record?.pending;
      if (!record || !pending) continue;
      const submission = readPendingSubmission(pending.state);
      // Saved without its submission (an older version of this client): left as it was.
      if (!submission) continue;
      const parts = readPendingCommit(pending.state, record.state);
      const group = importGroupStateParts(parts);
      let adopted: GroupRecord | undefined;
      try {
        adopted = await this.submitPending(groupId, record, pending.clientMsgId, parts, submission, () =>
          exportRatchetTree(group),
        );
      } catch (error) {
        if (error instanceof CourierError && error.status < 500) continue; // refused: forgotten
        throw error;
      }
      if (!adopted) continue;
      this.cache.set(groupId, { version: adopted.version, group, parts });
      this.emit('epoch', { groupId, epoch: Number(group.epoch) });
    }
  }

  /** Adopts this device's pending commit (accepted by the server); returns the new record. */
  private async adoptPending(
    groupId: string,
    clientMsgId: string,
    parts: GroupStateParts,
  ): Promise<GroupRecord | undefined> {
    for (;;) {
      const record = await this.stored(groupId);
      if (!record) return undefined;
      if (record.pending?.clientMsgId !== clientMsgId)
        return record.pending === undefined ? record : undefined;
      const next = { state: groupStateChange(record.state, parts), seq: record.seq };
      if (await this.options.store.saveGroup(groupId, next, record.version))
        return { state: parts, seq: record.seq, version: record.version + 1 };
    }
  }

  /**
   * Runs commit-making work for a chat after the work queued before it for that chat has settled
   * (resolved or failed). Entries keep being processed meanwhile (`handle` does not queue), so
   * work that waits to catch up with the chat's epoch cannot wait on itself.
   */
  private exclusive<T>(groupId: string, work: () => Promise<T>): Promise<T> {
    return afterQueued(this.commitQueues, groupId, work);
  }

  /**
   * Runs work that moves a chat's group state on (no network wait inside) after such work queued
   * before it for that chat. The saved version still guards against other processes of the device
   * (another tab); inside this one, a backlog being processed and receipts being encrypted no
   * longer undo each other's work (each lost race re-encrypted a receipt and retried).
   */
  private inTurn<T>(groupId: string, work: () => Promise<T>): Promise<T> {
    return afterQueued(this.stateTurns, groupId, work);
  }

  /**
   * The chat's stored record. While the cached group is at the stored version the store hands back the
   * cached parts instead of reading the tree's pages again (the secret part and position are read).
   */
  private stored(groupId: string): Promise<GroupRecord | undefined> {
    const cached = this.cache.get(groupId);
    return this.options.store.group(groupId, cached && { version: cached.version, state: cached.parts });
  }

  private load(groupId: string, record: GroupRecord): MlsGroup {
    const cached = this.cache.get(groupId);
    if (cached && cached.version === record.version) return cached.group;
    const group = importGroupStateParts(record.state);
    this.cache.set(groupId, { version: record.version, group, parts: record.state });
    return group;
  }

  private async save(
    groupId: string,
    record: GroupRecord,
    group: MlsGroup,
    extras: Parameters<MlsStore['saveGroup']>[3] = {},
    seq = record.seq,
  ): Promise<boolean> {
    // Only what changed since the stored version is written: the secret part and the changed tree pages
    // (those of the cached parts whose nodes are unchanged are the same arrays).
    const cached = this.cache.get(groupId);
    const stored = cached?.version === record.version ? cached.parts : record.state;
    const parts = exportGroupStateParts(group, stored);
    const next = {
      state: groupStateChange(stored, parts),
      seq,
      ...(record.pending ? { pending: record.pending } : {}),
    };
    const ok = await this.options.store.saveGroup(groupId, next, record.version, extras);
    if (ok) this.cache.set(groupId, { version: record.version + 1, group, parts });
    return ok;
  }

  private async onEntry(entry: EntryFrame): Promise<undefined | false> {
    if (this.options.accept && !this.options.accept(entry.groupId)) return false;
    if (entry.kind === 'roster') {
      await this.onRoster(entry);
      return undefined;
    }
    await this.handle(entry.groupId, {
      seq: entry.seq,
      kind: entry.kind,
      senderAccountId: entry.senderAccountId,
      senderDeviceId: entry.senderDeviceId,
      clientMsgId: entry.clientMsgId,
      payload: entry.payload,
      sentAtMs: entry.sentAtMs,
    });
    return undefined;
  }

  /** Processes one message or commit entry of a chat, exactly once. */
  private handle(groupId: string, entry: StashedEntry): Promise<void> {
    return this.inTurn(groupId, () => this.handleNow(groupId, entry));
  }

  private async handleNow(groupId: string, entry: StashedEntry): Promise<void> {
    const { store } = this.options;
    // Every save below records the entry's position with its effect, in one store write.
    const cursor = entry.seq;
    for (;;) {
      const record = await this.stored(groupId);
      if (!record) {
        // Not in the chat's group yet: keep the entry until the Welcome arrives.
        await store.stash(groupId, entry);
        return;
      }
      if (entry.seq <= record.seq) return;
      const fromMe = entry.senderDeviceId === this.deviceId;
      if (fromMe && entry.kind === 'commit') {
        // Our own commit: its result was adopted when accepted, or is still pending after a crash.
        const state =
          record.pending?.clientMsgId === entry.clientMsgId
            ? groupStateChange(record.state, readPendingCommit(record.pending.state, record.state))
            : undefined;
        // An earlier commit of ours (adopted when accepted) keeps a later one's pending state.
        const save = state ? { state, seq: entry.seq } : { ...this.keep(record), seq: entry.seq };
        if (await store.saveGroup(groupId, save, record.version, { cursor })) {
          if (!state) this.stateKept(groupId, record.version);
          return;
        }
        continue;
      }
      if (fromMe) {
        // Our own message (or receipt): stored when sent; only its position is new (also when another
        // process of this device sent it).
        const accepted = { senderDeviceId: this.deviceId, clientMsgId: entry.clientMsgId, seq: entry.seq };
        const moved = { ...this.keep(record), seq: entry.seq };
        if (await store.saveGroup(groupId, moved, record.version, { accepted, cursor })) {
          this.stateKept(groupId, record.version);
          return;
        }
        continue;
      }
      const group = this.load(groupId, record);
      const outcome = await processMessage(this.context, group, entry.payload);
      if (outcome.kind === 'application') {
        const read = this.readApplication(groupId, entry, outcome);
        const { message, action } = read;
        const extras = {
          ...(message ? { messages: [message] } : action ? { actions: [action] } : {}),
          cursor,
        };
        if (!(await this.save(groupId, record, outcome.group, extras, entry.seq))) continue;
        eraseSecrets(outcome.consumed);
        await this.afterApplication(groupId, entry, read);
        return;
      }
      if (outcome.kind === 'commit' || outcome.kind === 'proposal') {
        if (!(await this.save(groupId, record, outcome.group, { cursor }, entry.seq))) continue;
        eraseSecrets(outcome.consumed);
        if (outcome.kind === 'commit') this.emit('epoch', { groupId, epoch: Number(outcome.group.epoch) });
        return;
      }
      if (outcome.kind === 'removed') {
        if (!(await this.save(groupId, record, outcome.group, { cursor }, entry.seq))) continue;
        this.emit('removed', { groupId });
        return;
      }
      // A message that cannot be read is recorded and skipped; the group is unchanged.
      if (
        !(await store.saveGroup(groupId, { ...this.keep(record), seq: entry.seq }, record.version, {
          cursor,
        }))
      )
        continue;
      this.stateKept(groupId, record.version);
      this.undecryptable(groupId, entry.seq, outcome.code, outcome.message);
      return;
    }
  }

  /** What a decrypted application message is: a message to keep, a receipt, an action, or a failure. */
  private readApplication(
    groupId: string,
    entry: StashedEntry,
    outcome: Extract<Awaited<ReturnType<typeof processMessage>>, { kind: 'application' }>,
  ): ReadApplication {
    const content = readContent(outcome.plaintext);
    const sender = outcome.sender;
    const base = {
      groupId,
      seq: entry.seq,
      clientMsgId: entry.clientMsgId,
      senderAccountId: entry.senderAccountId,
      senderDeviceId: entry.senderDeviceId,
      outgoing: false,
    };
    if (sender?.accountId !== entry.senderAccountId || sender.deviceId !== entry.senderDeviceId)
      return {
        failure: {
          code: 'MLS_MALFORMED',
          message: 'The sender inside the message is not the one the server names.',
        },
      };
    if (content.kind === 'malformed') return { failure: { code: 'MLS_MALFORMED', message: content.reason } };
    if (content.kind === 'unsupported')
      // A type this client does not read: kept and shown as unsupported, never dropped.
      return {
        message: {
          ...base,
          sentAtMs: entry.sentAtMs,
          text: '',
          unsupported: { type: content.type, v: content.v },
        },
      };
    if (content.content.type === 'receipt') return { receipt: content.content };
    if (content.content.type === 'channel-key') return { channelKey: content.content };
    if (isActionContent(content.content))
      // Checked against the MLS sender above; whether it may change its message, applyAction decides.
      return { action: actionOf(base, content.content) };
    return { message: { ...base, ...shownMessage(content.content) } };
  }

  /** After an application message was saved: receipts, actions and messages are told. */
  private async afterApplication(groupId: string, entry: StashedEntry, read: ReadApplication): Promise<void> {
    const { receipt, channelKey, action, message, failure } = read;
    if (receipt) await this.receipts.apply(groupId, entry.senderAccountId, receipt);
    else if (channelKey)
      this.emit('channel_key', {
        groupId,
        seq: entry.seq,
        senderAccountId: entry.senderAccountId,
        senderDeviceId: entry.senderDeviceId,
        content: channelKey,
      });
    else if (action) {
      const target = await this.options.store.message(groupId, action.target);
      if (target) this.emit('updated', { message: target, action });
    } else if (message) {
      this.emit('message', message);
      await this.receipts.received(groupId, entry.senderAccountId, entry.seq);
    } else this.undecryptable(groupId, entry.seq, failure?.code ?? 'MLS_MALFORMED', failure?.message ?? '');
  }

  /**
   * A run of entries that arrived together (a backlog): each stretch of other devices' messages of
   * one chat is decrypted in memory and saved once, with all its messages and the group state in
   * one store write (exactly once and in order as one by one: the saved state, position and
   * messages go together or not at all); everything else is processed one entry at a time.
   */
  private async onEntryRun(entries: EntryFrame[]): Promise<(undefined | false)[]> {
    const answers: (undefined | false)[] = [];
    for (let i = 0; i < entries.length; ) {
      const first = entries[i]!;
      let end = i + 1;
      if (this.inStretch(first, first.groupId))
        while (end < entries.length && this.inStretch(entries[end]!, first.groupId)) end++;
      if (end - i === 1) answers.push(await this.onEntry(first));
      else {
        await this.inTurn(first.groupId, () => this.handleStretch(first.groupId, entries.slice(i, end)));
        for (let k = i; k < end; k++) answers.push(undefined);
      }
      i = end;
    }
    return answers;
  }

  private inStretch(entry: EntryFrame, groupId: string): boolean {
    return (
      entry.groupId === groupId &&
      entry.kind === 'message' &&
      entry.senderDeviceId !== this.deviceId &&
      (!this.options.accept || this.options.accept(entry.groupId))
    );
  }

  private async handleStretch(groupId: string, frames: EntryFrame[]): Promise<void> {
    const entries: StashedEntry[] = frames.map((entry) => ({
      seq: entry.seq,
      kind: 'message' as const,
      senderAccountId: entry.senderAccountId,
      senderDeviceId: entry.senderDeviceId,
      clientMsgId: entry.clientMsgId,
      payload: entry.payload,
      sentAtMs: entry.sentAtMs,
    }));
    const record = await this.stored(groupId);
    if (!record) {
      for (const entry of entries) await this.handleNow(groupId, entry);
      return;
    }
    let group = this.load(groupId, record);
    let seq = record.seq;
    const done: { entry: StashedEntry; read: ReadApplication; consumed: Uint8Array[] }[] = [];
    let rest = 0;
    for (; rest < entries.length; rest++) {
      const entry = entries[rest]!;
      if (entry.seq <= seq) continue;
      const outcome = await processMessage(this.context, group, entry.payload);
      if (outcome.kind === 'application') {
        done.push({ entry, read: this.readApplication(groupId, entry, outcome), consumed: outcome.consumed });
        group = outcome.group;
      } else if (outcome.kind === 'failed')
        // Recorded and skipped; the group is unchanged.
        done.push({
          entry,
          read: { failure: { code: outcome.code, message: outcome.message } },
          consumed: [],
        });
      else break; // a handshake where a message was announced: processed on its own below
      seq = entry.seq;
    }
    if (done.length > 0) {
      const messages = done.flatMap(({ read }) => (read.message ? [read.message] : []));
      const actions = done.flatMap(({ read }) => (read.action ? [read.action] : []));
      if (!(await this.save(groupId, record, group, { messages, actions, cursor: seq }, seq))) {
        // Another process of this device moved the chat on: one by one from what it saved.
        for (const entry of entries) await this.handleNow(groupId, entry);
        return;
      }
      for (const { consumed } of done) eraseSecrets(consumed);
      for (const { entry, read } of done) await this.afterApplication(groupId, entry, read);
    }
    for (const entry of entries.slice(rest)) await this.handleNow(groupId, entry);
  }

  /**
   * A save without a state succeeded over `version`: the cached group is the stored state still, now at
   * the next version (else the next entry would load the whole group from the store again).
   */
  private stateKept(groupId: string, version: number): void {
    const cached = this.cache.get(groupId);
    if (cached?.version === version) this.cache.set(groupId, { ...cached, version: version + 1 });
  }

  /** A save that keeps the stored state (and pending commit) and moves only the position. */
  private keep(record: GroupRecord): { pending?: PendingCommit } {
    return record.pending ? { pending: record.pending } : {};
  }

  private undecryptable(groupId: string, seq: number, code: string, message: string): void {
    this.emit('undecryptable', { groupId, seq, code, message });
  }

  private async onRoster(entry: EntryFrame): Promise<void> {
    let event: RosterEvent;
    try {
      event = decodeRosterEvent(entry.payload);
    } catch {
      return;
    }
    await this.options.store.addMessages(
      [
        {
          groupId: entry.groupId,
          seq: entry.seq,
          clientMsgId: entry.clientMsgId,
          senderAccountId: entry.senderAccountId,
          senderDeviceId: entry.senderDeviceId,
          sentAtMs: entry.sentAtMs,
          text: '',
          outgoing: false,
          roster: event,
        },
      ],
      // The entry's position with it, in one store write.
      { groupId: entry.groupId, seq: entry.seq },
    );
    this.emit('roster', { groupId: entry.groupId, seq: entry.seq, event });
    if (!(await this.stored(entry.groupId))) return;
    if (event.action === 'device_added') {
      // A new device of this account is added by this account's devices, others' by admins.
      if (entry.senderDeviceId === this.deviceId) return;
      void this.reconcileLater(entry.groupId, event.subjectAccountIds.includes(this.accountId));
      return;
    }
    if (event.action === 'added') {
      // Someone accepted an invitation (or was added by another admin): admins add their devices.
      if (event.actorAccountId === this.accountId) return;
      void this.reconcileLater(entry.groupId, false);
      return;
    }
    if (event.action !== 'removed' && event.action !== 'left') return;
    if (event.subjectAccountIds.includes(this.accountId)) return;
    // Someone left or was removed: an admin's device commits the removal of their devices.
    void this.reconcileLater(entry.groupId, false);
  }

  private async reconcileLater(groupId: string, ownDevice: boolean): Promise<void> {
    try {
      const chat = await this.http.group(groupId);
      if (!ownDevice && chat.kind === 'group' && chat.myRole === 'member') return;
      await this.reconcile(groupId);
    } catch (error) {
      this.emit(
        'problem',
        error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error }),
      );
    }
  }

  private async onMailboxItem(item: MailboxItemFrame): Promise<void> {
    if (item.kind === 'device') {
      // Other kinds of device items (none yet) are left alone, as before.
      const envelope = parseReadSync(item.payload);
      if (envelope)
        await this.onReadSync(item, envelope).catch((error: unknown) =>
          this.emit(
            'problem',
            error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error }),
          ),
        );
      return;
    }
    if (item.kind !== 'welcome') return;
    try {
      await this.join(item);
    } catch (error) {
      // Unreachable server: not acknowledged, so the Welcome comes again. Anything else is reported.
      if (error instanceof CourierError && error.status >= 500) throw error;
      this.emit(
        'problem',
        error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error }),
      );
    }
  }

  /** Joins a chat's group from a Welcome, then processes what arrived for it meanwhile. */
  private async join(item: MailboxItemFrame): Promise<void> {
    const welcome = decodeMlsWelcome(item.payload);
    const { store } = this.options;
    const existing = await this.stored(welcome.groupId);
    if (existing && existing.seq >= welcome.commitSeq) return; // already joined at or after it
    const tree = await this.http.call<RatchetTreeReply>(
      'GET',
      `/v1/groups/${encodeURIComponent(welcome.groupId)}/mls/tree?epoch=${welcome.epoch}`,
    );
    const chat = await this.http.group(welcome.groupId);
    await this.directory.prefetch(chat.members.map((m) => m.accountId));
    const joined = await joinGroup(this.context, {
      welcome: welcome.welcome,
      ratchetTree: bytesOf(tree.ratchetTree, 'ratchet tree'),
      keyPackages: await store.keyPackages(),
    });
    if (new TextDecoder().decode(joined.group.groupId) !== welcome.groupId)
      throw new CourierError('MLS_WRONG_GROUP', {
        message: 'The Welcome is for another group than it says.',
      });
    const parts = exportGroupStateParts(joined.group);
    const used = (await store.keyPackages()).find(
      (kp) => toBase64(kp.ref) === toBase64(joined.keyPackageRef),
    );
    // The group, the used key package's removal and the Welcome's mailbox position: one store write.
    const saved = await store.saveGroup(
      welcome.groupId,
      { state: groupStateChange(existing?.state, parts), seq: welcome.commitSeq },
      existing?.version,
      { ...(used && !used.lastResort ? { usedKeyPackage: used.ref } : {}), mailboxCursor: item.seq },
    );
    if (!saved) return;
    this.cache.set(welcome.groupId, { version: (existing?.version ?? 0) + 1, group: joined.group, parts });
    this.emit('joined', { groupId: welcome.groupId, epoch: welcome.epoch });
    for (const entry of await store.takeStash(welcome.groupId)) await this.handle(welcome.groupId, entry);
    void this.topUpKeyPackages().catch((error: unknown) =>
      this.emit(
        'problem',
        error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error }),
      ),
    );
  }
}
