import {
  MemoryMlsStore,
  type MlsStore,
  SecureClient,
  type SecureClientOptions,
  type StoredMessage,
} from '@courier/sdk';
import { nextPhone, type TestServer, type TestUser } from './harness.ts';

/** A device with end-to-end encryption, recording what it decrypts and every failure code. */
export interface SecureDevice<S extends MlsStore = MemoryMlsStore> {
  user: TestUser;
  client: SecureClient;
  store: S;
  received: StoredMessage[];
  undecryptable: { groupId: string; seq: number; code: string }[];
  problems: string[];
  /** Resolves once `count` messages of the chat arrived. */
  waitFor(groupId: string, count: number, timeoutMs?: number): Promise<StoredMessage[]>;
  /** Resolves once the device joined the chat's group. */
  joined(groupId: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the device's group reached the epoch. */
  atEpoch(groupId: string, epoch: number, timeoutMs?: number): Promise<void>;
}

async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A device on `store` (a fresh memory store unless given); `start: false` leaves starting it to the caller. */
export async function secureDevice<S extends MlsStore = MemoryMlsStore>(
  server: Pick<TestServer, 'url'>,
  user: TestUser,
  options: {
    store?: S;
    start?: boolean;
    /** More client options (e.g. a low `receiptMaxDevices`). */
    client?: Partial<Pick<SecureClientOptions, 'receiptMaxDevices' | 'receiptDelayMs'>>;
  } = {},
): Promise<SecureDevice<S>> {
  const store = options.store ?? (new MemoryMlsStore() as MlsStore as S);
  const client = new SecureClient({
    url: server.url,
    token: user.token,
    accountId: user.accountId,
    deviceId: user.deviceId,
    store,
    reconnectBaseMs: 20,
    reconnectCapMs: 200,
    keyPackageStock: 4,
    ...options.client,
  });
  const received: StoredMessage[] = [];
  const undecryptable: SecureDevice<S>['undecryptable'] = [];
  const problems: string[] = [];
  client.on('message', (m) => received.push(m));
  client.on('undecryptable', (u) => undecryptable.push(u));
  client.on('problem', (p) => problems.push(`${p.code}: ${p.message}`));
  if (options.start ?? true) await client.start();
  return {
    user,
    client,
    store,
    received,
    undecryptable,
    problems,
    waitFor: async (groupId, count, timeoutMs = 15_000) => {
      const of = () => received.filter((m) => m.groupId === groupId);
      await until(
        () => of().length >= count,
        `${count} messages in ${groupId} (have ${of().length})`,
        timeoutMs,
      );
      return of();
    },
    joined: (groupId, timeoutMs = 15_000) =>
      until(async () => (await client.epoch(groupId)) !== undefined, `joining ${groupId}`, timeoutMs),
    atEpoch: (groupId, epoch, timeoutMs = 15_000) =>
      until(
        async () => ((await client.epoch(groupId)) ?? -1) >= epoch,
        `epoch ${epoch} of ${groupId}`,
        timeoutMs,
      ),
  };
}

/**
 * `count` people, each with one device that published its key packages and is not connected (to be
 * added to a group, as people who are offline are).
 */
export async function preparedDevices(
  server: Pick<TestServer, 'url' | 'register'>,
  count: number,
): Promise<SecureDevice[]> {
  const devices: SecureDevice[] = [];
  for (let i = 0; i < count; i++) {
    const device = await secureDevice(server, await server.register(nextPhone()), { start: false });
    await device.client.prepare();
    devices.push(device);
  }
  return devices;
}
