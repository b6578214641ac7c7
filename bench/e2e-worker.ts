/**
 * One process of real devices for the `e2e` workload (bench/e2e.ts starts 2–3 of these with
 * `child_process.fork`, so that a 1,000-member group's clients share both cores with the server). Each
 * device is a `SecureClient` with the CLI's SQLite device store, one file per device in this process's
 * own temporary folder (made by the parent; removed on every exit path of either process).
 *
 * The parent sends requests ({@link WorkerRequest}) and gets one reply each; meanwhile this process
 * streams what its devices saw ({@link WorkerEvents}: epochs reached, bench messages decrypted, with
 * the time on the clock every process shares, `performance.timeOrigin + performance.now()`), batched.
 *
 * BENCH_E2E_PROFILE=<dir> writes a V8 CPU profile of each worker there (see e2e.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceStore } from '@courier/cli';
import { SecureClient, type StoredMessage } from '@courier/sdk';
import { onExitCleanup } from '../test/support/exit-cleanup.ts';
import { now } from './lean-client.ts';

/** A device this process hosts: an account's one device and its session. */
export interface WorkerUser {
  accountId: string;
  deviceId: string;
  token: string;
}

/** A 1:1 chat whose two devices both live in this process, and what each sends. */
export interface WorkerPair {
  a: string;
  b: string;
  groupId: string;
  /** Message names a sends to b, and b to a (sent in order, one in flight each). */
  aTexts: string[];
  bTexts: string[];
}

export type WorkerRequest =
  | {
      op: 'start';
      url: string;
      perCommit: number;
      dir: string;
      users: WorkerUser[];
      /** Devices only prepared (identity, key packages), not connected: they connect in `join`. */
      offline: string[];
    }
  | { op: 'join'; groupId: string; epoch: number; concurrency: number }
  | { op: 'openDirect'; device: string; accountId: string }
  | { op: 'pairs'; pairs: WorkerPair[] }
  | { op: 'createGroup'; device: string; title: string; accountIds: string[] }
  | { op: 'epoch'; device: string; groupId: string }
  | { op: 'send'; device: string; groupId: string; names: string[] }
  | { op: 'stop' };

export interface WorkerEvents {
  ev: 'batch';
  /** [device, groupId, epoch] as each device joined a chat or reached an epoch. */
  epochs: [string, string, number][];
  /** [device, message name, time] per decrypted bench message. */
  decrypts: [string, string, number][];
}

/** A bench message's text: a prefix the counters recognise, and a unique name. */
export const PREFIX = 'e2e ';
/** Bench messages are 200 characters, as in W1 and W2: a unique name, padded. */
export const SIZE = 200;
export const textOf = (name: string) => `${PREFIX}${name} `.padEnd(SIZE, '.');
export const nameOf = (text: string) => text.slice(PREFIX.length).replace(/\.+$/, '').trimEnd();
const incoming = (m: StoredMessage) => !m.outgoing && m.text.startsWith(PREFIX);

/** Runs `work` over `items`, `limit` at a time. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const WAIT_MS = 600_000;

/**
 * Starts a client, again after a while when the server could not be reached (its first-run setup asks
 * the server over HTTP; on a loaded machine a request can fail): as an app would, up to 20 times.
 */
async function startRetrying(client: SecureClient, report: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.start();
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'SERVER_UNAVAILABLE' || attempt >= 20) throw error;
      report(`start failed (${code}), attempt ${attempt}; again in ${attempt} s`);
      await new Promise((resolve) => setTimeout(resolve, attempt * 1000));
    }
  }
}

class Host {
  private readonly clients = new Map<string, SecureClient>();
  private readonly stores: DeviceStore[] = [];
  private dir: string | undefined;
  private unregister = () => {};
  private epochs: WorkerEvents['epochs'] = [];
  private decrypts: WorkerEvents['decrypts'] = [];
  /** Waiters for a message name's decryption (the 1:1 closed loop). */
  private readonly waiting = new Map<string, () => void>();
  private readonly flusher = setInterval(() => this.flush(), 50);
  /** Each device's latest epoch per chat, and who waits for one. */
  private readonly reached = new Map<string, number>();
  private readonly epochWaiters = new Map<string, { epoch: number; resolve: () => void }>();
  private readonly offline = new Set<string>();

  client(device: string): SecureClient {
    const client = this.clients.get(device);
    if (!client) throw new Error(`device ${device} is not in this worker`);
    return client;
  }

  private problems = 0;

  /** The first problems in full, then every hundredth (a stuck group can report thousands). */
  report(line: string): void {
    this.problems++;
    if (this.problems <= 10 || this.problems % 100 === 0)
      process.stderr.write(`[e2e-worker ${process.pid}] problem ${this.problems}: ${line}\n`);
  }

  flush(): void {
    if (this.epochs.length === 0 && this.decrypts.length === 0) return;
    const batch: WorkerEvents = { ev: 'batch', epochs: this.epochs, decrypts: this.decrypts };
    this.epochs = [];
    this.decrypts = [];
    process.send?.(batch);
  }

  async start(r: Extract<WorkerRequest, { op: 'start' }>): Promise<void> {
    // The parent made the folder (and removes it too, should this process be killed).
    const dir = r.dir;
    this.dir = dir;
    this.unregister = onExitCleanup(() => rmSync(dir, { recursive: true, force: true }));
    await pool(r.users, 8, async (user) => {
      const store = new DeviceStore(join(dir, `${user.deviceId}.db`));
      this.stores.push(store);
      const client = new SecureClient({
        url: r.url,
        token: user.token,
        accountId: user.accountId,
        deviceId: user.deviceId,
        store,
        keyPackageStock: 2,
        maxAddsPerCommit: r.perCommit,
        // A thousand devices on a machine shared with the server: a connection is presumed dead only
        // after a minute of silence, and reconnects back off up to 10 s (quick reconnects of hundreds
        // of devices to a starved server made it slower still: more "went silent", more resyncs).
        reconnectBaseMs: 500,
        reconnectCapMs: 10_000,
        pingIntervalMs: 60_000,
      });
      this.clients.set(user.deviceId, client);
      const seen = ({ groupId, epoch }: { groupId: string; epoch: number }) => {
        this.epochs.push([user.deviceId, groupId, epoch]);
        const key = `${user.deviceId} ${groupId}`;
        this.reached.set(key, Math.max(epoch, this.reached.get(key) ?? -1));
        const waiter = this.epochWaiters.get(key);
        if (waiter && epoch >= waiter.epoch) waiter.resolve();
      };
      client.on('joined', seen);
      client.on('epoch', seen);
      // A failure a device only reports (a join that failed, an entry it could not read) goes to stderr:
      // a stalled run says why.
      client.on('problem', (e) => this.report(`${user.deviceId}: ${e.code} ${e.message}`));
      client.on('undecryptable', (u) =>
        this.report(`${user.deviceId}: undecryptable ${u.groupId}#${u.seq} ${u.code}`),
      );
      client.on('message', (m) => {
        if (!incoming(m)) return;
        const name = nameOf(m.text);
        this.decrypts.push([user.deviceId, name, now()]);
        this.waiting.get(`${user.deviceId} ${name}`)?.();
      });
      if (r.offline.includes(user.deviceId)) {
        this.offline.add(user.deviceId);
        await client.prepare();
        return;
      }
      await startRetrying(client, (line) => this.report(`${user.deviceId}: ${line}`));
      await client.ready();
    });
  }

  /**
   * Connects the devices prepared offline, `concurrency` at a time, each once the one before it in its
   * lane has joined the group from its Welcome and reached `epoch`. Hundreds of devices in one process
   * all joining at once starve each other's event loop (requests time out, connections go silent): on
   * their own machines they would not share one.
   */
  async join(groupId: string, epoch: number, concurrency: number): Promise<void> {
    await pool([...this.offline], concurrency, async (device) => {
      this.offline.delete(device);
      const key = `${device} ${groupId}`;
      const joined = new Promise<void>((resolve) => {
        if ((this.reached.get(key) ?? -1) >= epoch) resolve();
        else this.epochWaiters.set(key, { epoch, resolve });
      });
      await startRetrying(this.client(device), (line) => this.report(`${device}: ${line}`));
      await joined;
      this.epochWaiters.delete(key);
    });
  }

  /** Both people of each pair send to each other in a closed loop; returns the send → decrypted times. */
  async pairs(pairs: WorkerPair[]): Promise<number[]> {
    const latencies: number[] = [];
    const sender = async (from: string, to: string, groupId: string, names: string[]) => {
      for (const name of names) {
        let timer: NodeJS.Timeout | undefined;
        const decrypted = new Promise<void>((resolve, reject) => {
          this.waiting.set(`${to} ${name}`, resolve);
          timer = setTimeout(() => reject(new Error(`${name} was not decrypted`)), WAIT_MS);
        });
        const sentAt = now();
        try {
          await this.client(from).sendText(groupId, textOf(name));
          await decrypted;
          latencies.push(now() - sentAt);
        } finally {
          clearTimeout(timer);
          this.waiting.delete(`${to} ${name}`);
        }
      }
    };
    await Promise.all(
      pairs.flatMap((p) => [sender(p.a, p.b, p.groupId, p.aTexts), sender(p.b, p.a, p.groupId, p.bTexts)]),
    );
    return latencies;
  }

  /** Sends each name in order; returns each one's send time. */
  async send(device: string, groupId: string, names: string[]): Promise<[string, number][]> {
    const sent: [string, number][] = [];
    for (const name of names) {
      sent.push([name, now()]);
      await this.client(device).sendText(groupId, textOf(name));
    }
    return sent;
  }

  async stop(): Promise<void> {
    clearInterval(this.flusher);
    try {
      await pool([...this.clients.values()], 32, async (client) => {
        await client.stop().catch(() => {});
      });
    } finally {
      for (const store of this.stores) {
        try {
          store.close();
        } catch {
          // already closed
        }
      }
      if (this.dir) rmSync(this.dir, { recursive: true, force: true });
      this.unregister();
    }
  }
}

async function handle(host: Host, r: WorkerRequest): Promise<unknown> {
  switch (r.op) {
    case 'start':
      return host.start(r);
    case 'openDirect':
      return (await host.client(r.device).openDirect(r.accountId)).groupId;
    case 'pairs':
      return host.pairs(r.pairs);
    case 'createGroup':
      return (await host.client(r.device).createGroup(r.title, r.accountIds)).groupId;
    case 'join':
      return host.join(r.groupId, r.epoch, r.concurrency);
    case 'epoch':
      return host.client(r.device).epoch(r.groupId);
    case 'send':
      return host.send(r.device, r.groupId, r.names);
    case 'stop':
      return host.stop();
  }
}

if (process.send) {
  const host = new Host();
  // The parent went away (a crash, a kill): stop here too; the exit cleanup removes the folder.
  process.on('disconnect', () => process.exit(1));
  process.on('message', async (message: { id: number; request: WorkerRequest }) => {
    try {
      const value = await handle(host, message.request);
      // Whatever the devices saw before the reply goes first.
      host.flush();
      // After 'stop' this process ends (normally, so that a CPU profile is written).
      process.send!({ id: message.id, value }, () => {
        if (message.request.op === 'stop') process.exit(0);
      });
    } catch (error) {
      host.flush();
      process.send!({ id: message.id, error: String((error as Error).stack ?? error) });
    }
  });
}
