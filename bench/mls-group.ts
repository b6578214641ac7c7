import {
  createKeyPackage,
  createMlsClientContext,
  generateDeviceIdentity,
  MAX_ADDS_PER_COMMIT,
} from '@courier/mls';
import { toBase64 } from '@courier/protocol';
import { type CourierHttp, MemoryMlsStore, SecureClient, type StoredMessage } from '@courier/sdk';
import { type Figure, progress, round } from './figure.ts';
import { now } from './lean-client.ts';

export interface MlsGroupParams {
  members: number;
  /** Adds per commit (≤ 500). */
  perCommit: number;
}

export const MLS_GROUP_DEFAULTS: MlsGroupParams = { members: 5000, perCommit: MAX_ADDS_PER_COMMIT };

/** A registered account with its one device's session. */
export interface GroupUser {
  accountId: string;
  deviceId: string;
  token: string;
  http: CourierHttp;
}

/** What the scenario observed, for a test to check and the bench to print. */
export interface MlsGroupResult {
  figures: Figure[];
  groupId: string;
  memberDevices: number;
  received: string[];
  epochAfterRemove: number;
  removedStillListed: boolean;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!(await check())) {
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A large group end to end through the real server and its MLS delivery service: every member's
 * device has a certified credential and a key package; one owner (a SecureClient) creates the
 * group, which adds everyone in commits of ≤ `perCommit` (each checked by the server: epoch, path,
 * roster, tree; each Welcome split per device); one member (a SecureClient) joins from its Welcome
 * with the tree served apart, reads a message, processes the removal of another member (a commit
 * with an UpdatePath), and reads on. The other members' devices are real MLS devices that stay
 * offline (their private keys are not kept), as most members of a big group are at any moment.
 */
export async function runMlsGroup(
  url: string,
  users: readonly GroupUser[],
  p: MlsGroupParams,
): Promise<MlsGroupResult> {
  if (users.length !== p.members || users.length < 3) throw new Error('one user per member, at least 3');
  const [owner, joiner, ...rest] = users as [GroupUser, GroupUser, ...GroupUser[]];
  const context = await createMlsClientContext();

  // The offline members' devices: a credential (certified by the server) and one key package each.
  const t0 = now();
  for (let i = 0; i < rest.length; i += 50) {
    await Promise.all(
      rest.slice(i, i + 50).map(async (user) => {
        const identity = await generateDeviceIdentity(user.accountId, user.deviceId);
        await user.http.call('PUT', '/v1/me/device/credential', {
          signaturePublicKey: toBase64(identity.signaturePublicKey),
        });
        const kp = await createKeyPackage(context, identity);
        await user.http.call('POST', '/v1/me/device/key-packages', {
          keyPackages: [toBase64(kp.keyPackage)],
        });
      }),
    );
  }
  progress(`mls-group: ${rest.length} member devices published keys in ${round((now() - t0) / 1000)} s`);

  const client = (user: GroupUser) =>
    new SecureClient({
      url,
      token: user.token,
      accountId: user.accountId,
      deviceId: user.deviceId,
      store: new MemoryMlsStore(),
      keyPackageStock: 2,
      maxAddsPerCommit: p.perCommit,
      reconnectBaseMs: 50,
      reconnectCapMs: 1000,
    });
  const ownerClient = client(owner);
  const joinerClient = client(joiner);
  const received: StoredMessage[] = [];
  joinerClient.on('message', (m) => received.push(m));
  await Promise.all([ownerClient.start(), joinerClient.start()]);

  const tCreate = now();
  const group = await ownerClient.createGroup(
    'big',
    users.slice(1).map((u) => u.accountId),
  );
  const createSeconds = (now() - tCreate) / 1000;
  const epoch = (await ownerClient.epoch(group.groupId))!;
  progress(`mls-group: created and added ${users.length - 1} in ${round(createSeconds)} s (epoch ${epoch})`);

  await until(async () => (await joinerClient.epoch(group.groupId)) === epoch, 'the join', 600_000);
  const joinSeconds = (now() - tCreate - createSeconds * 1000) / 1000;

  const tMessage = now();
  await ownerClient.sendText(group.groupId, 'hello, everyone');
  await until(async () => received.length >= 1, 'the first message', 120_000);
  const messageSeconds = (now() - tMessage) / 1000;

  const leaving = rest.at(-1)!;
  const tRemove = now();
  await ownerClient.removeMember(group.groupId, leaving.accountId);
  const removeSeconds = (now() - tRemove) / 1000;
  const epochAfterRemove = (await ownerClient.epoch(group.groupId))!;
  await until(
    async () => (await joinerClient.epoch(group.groupId)) === epochAfterRemove,
    'the removal',
    600_000,
  );
  const processSeconds = (now() - tRemove - removeSeconds * 1000) / 1000;
  await ownerClient.sendText(group.groupId, 'one fewer');
  await until(async () => received.length >= 2, 'the second message', 120_000);

  const members = await joinerClient.members(group.groupId);
  await Promise.all([ownerClient.stop(), joinerClient.stop()]);
  const params = { members: p.members, perCommit: p.perCommit };
  const figure = (name: string, value: number, unit = 's'): Figure => ({
    bench: 'mls-group',
    figure: name,
    value: round(value, 2),
    unit,
    params,
    storage: '',
  });
  return {
    groupId: group.groupId,
    memberDevices: members.length,
    received: received.map((m) => m.text),
    epochAfterRemove,
    removedStillListed: members.some((m) => m.accountId === leaving.accountId),
    figures: [
      figure('create_and_add_s', createSeconds),
      figure('joiner_caught_up_s', joinSeconds),
      figure('message_to_joiner_s', messageSeconds),
      figure('remove_commit_s', removeSeconds),
      figure('process_remove_s', processSeconds),
    ],
  };
}
