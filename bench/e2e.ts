/**
 * `npm run bench -- e2e [--pairs N] [--messages N] [--members N] [--burst K] [--per-commit N]`: Courier
 * end to end, as people use it. Every device is a real `SecureClient` (MLS, packages/sdk) with the CLI's
 * SQLite device store (one file per device in a temporary folder, removed on every exit path), talking
 * to the bench's own server process over its real protocol.
 *
 * - 1:1: `pairs` direct chats; both people of a pair send to each other in a closed loop (at most one
 *   message in flight each: the next goes once the partner's client has decrypted the previous one),
 *   `messages` in all. Figures: messages per second delivered and decrypted (counted on the receiving
 *   client's 'message' event), send → decrypted p50/p99, server CPU per decrypted message.
 * - Group: one group of `members`, created by one member who adds everyone in batched commits (≤
 *   `perCommit` Adds each); every other member is a real client that joins from its Welcome. Then
 *   `senders` members send a burst of `burst` messages (each sender back to back). Figures: the time
 *   until every member has joined and reached the final epoch, decryptions per second across the
 *   group, the burst's messages per second (first send → the last member decrypted the last one), and
 *   per message the time until the LAST member has decrypted it (p50/p99 over the burst).
 *
 * No targets yet (issue 15: measure and report). Every message is counted per receiving device, so a
 * run also proves that each one was decrypted exactly once by each of its recipients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceStore } from '@courier/cli';
import { MAX_ADDS_PER_COMMIT } from '@courier/mls';
import { SecureClient, type StoredMessage } from '@courier/sdk';
import { onExitCleanup } from '../test/support/exit-cleanup.ts';
import type { BenchServer, BenchUser } from './bench-server.ts';
import { type Figure, progress, round } from './figure.ts';
import { now } from './lean-client.ts';
import { cpuMicros, percentile } from './server-proc.ts';

export interface E2eParams {
  /** 1:1 chats (two people each; both send). */
  pairs: number;
  /** Measured 1:1 messages in all (split evenly over the 2 × pairs senders). */
  messages: number;
  /** People in the group (its creator included). */
  members: number;
  /** Group messages in the burst. */
  burst: number;
  /** Members sending the burst (the creator first). */
  senders: number;
  /** Adds per commit while the group is filled (≤ 500). */
  perCommit: number;
}

export const E2E_DEFAULTS: E2eParams = {
  pairs: 20,
  messages: 2000,
  members: 1000,
  burst: 40,
  senders: 4,
  perCommit: MAX_ADDS_PER_COMMIT,
};

/** The figures, in the order printed (a failed run prints these names with null values). */
export const E2E_FIGURES = [
  'pair_msg_per_s',
  'pair_latency_p50_ms',
  'pair_latency_p99_ms',
  'pair_server_cpu_us_per_msg',
  'group_create_and_add_s',
  'group_join_all_s',
  'group_decrypts_per_s',
  'group_msg_per_s',
  'group_last_member_p50_ms',
  'group_last_member_p99_ms',
  'group_server_cpu_us_per_decrypt',
] as const;

/** How many times each expected (receiving device, message) was decrypted. */
export interface Tally {
  /** Decryptions expected: each message once by each recipient. */
  expected: number;
  /** Expected decryptions that happened exactly once. */
  exactlyOnce: number;
  /** Expected decryptions that happened more than once. */
  duplicated: number;
  /** Expected decryptions that never happened. */
  missing: number;
  /** Decryptions of a bench message by a device it was not meant for. */
  unexpected: number;
}

export interface E2eResult {
  figures: Figure[];
  pairs: Tally;
  group: Tally;
  /** Members (creator excluded) that reached the group's final epoch. */
  joined: number;
}

const WAIT_MS = 600_000;

async function until(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!check()) {
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits until `count()` reaches `target`; gives up only when it made no progress for `stallMs` (on a
 * loaded machine a large group takes long, but a stuck one is still reported).
 */
async function untilCount(
  count: () => number,
  target: number,
  what: string,
  stallMs = WAIT_MS,
): Promise<void> {
  let last = count();
  let lastAt = now();
  while (last < target) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const current = count();
    if (current > last) {
      last = current;
      lastAt = now();
    } else if (now() - lastAt > stallMs)
      throw new Error(`no progress for ${stallMs / 1000} s waiting for ${what} (${current} of ${target})`);
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Counts decryptions per (receiving device, message text) against the set expected. */
class Counter {
  private readonly counts = new Map<string, number>();
  private readonly wanted = new Set<string>();
  unexpected = 0;

  expect(device: string, text: string): void {
    this.wanted.add(`${device} ${text}`);
  }

  /** Records one decryption; returns whether it was the first of an expected one. */
  record(device: string, text: string): boolean {
    const key = `${device} ${text}`;
    if (!this.wanted.has(key)) {
      this.unexpected++;
      return false;
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count === 1;
  }

  tally(): Tally {
    let exactlyOnce = 0;
    let duplicated = 0;
    for (const key of this.wanted) {
      const count = this.counts.get(key) ?? 0;
      if (count === 1) exactlyOnce++;
      else if (count > 1) duplicated++;
    }
    return {
      expected: this.wanted.size,
      exactlyOnce,
      duplicated,
      missing: this.wanted.size - exactlyOnce - duplicated,
      unexpected: this.unexpected,
    };
  }
}

/**
 * Real devices: a SecureClient per user, each with its own SQLite device store in one temporary
 * folder. `close` stops them and removes the folder; a crash or signal removes it too.
 */
class Devices {
  readonly clients: SecureClient[] = [];
  private readonly stores: DeviceStore[] = [];
  private readonly dir: string;
  private readonly unregister: () => void;

  constructor(
    private readonly url: string,
    private readonly perCommit: number,
    parent = tmpdir(),
  ) {
    this.dir = mkdtempSync(join(parent, 'courier-e2e-'));
    this.unregister = onExitCleanup(() => rmSync(this.dir, { recursive: true, force: true }));
  }

  /** Creates and starts a client for each user, `concurrency` at a time (identity, key packages, connect). */
  async start(users: readonly BenchUser[], concurrency = 16): Promise<SecureClient[]> {
    const clients: SecureClient[] = new Array(users.length);
    await pool(users, concurrency, async (user, i) => {
      const store = new DeviceStore(join(this.dir, `${user.deviceId}.db`));
      this.stores.push(store);
      const client = new SecureClient({
        url: this.url,
        token: user.token,
        accountId: user.accountId,
        deviceId: user.deviceId,
        store,
        keyPackageStock: 2,
        maxAddsPerCommit: this.perCommit,
        reconnectBaseMs: 50,
        reconnectCapMs: 1000,
      });
      this.clients.push(client);
      clients[i] = client;
      await client.start();
      await client.ready();
    });
    return clients;
  }

  async close(): Promise<void> {
    try {
      await pool(this.clients, 32, async (client) => {
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
      rmSync(this.dir, { recursive: true, force: true });
      this.unregister();
    }
  }
}

/** A bench message's text: a prefix the counters recognise, and a unique name. */
const PREFIX = 'e2e ';
/** Bench messages are 200 characters, as in W1 and W2: a unique name, padded. */
const SIZE = 200;
const text = (name: string) => `${PREFIX}${name} `.padEnd(SIZE, '.');
const incoming = (m: StoredMessage) => !m.outgoing && m.text.startsWith(PREFIX);

interface PairOutcome {
  tally: Tally;
  figures: [number, number, number, number | null];
}

async function runPairs(
  server: BenchServer,
  users: readonly BenchUser[],
  p: E2eParams,
  parent?: string,
): Promise<PairOutcome> {
  const devices = new Devices(server.url, p.perCommit, parent);
  try {
    progress(`e2e: starting ${users.length} devices for ${p.pairs} pairs`);
    const clients = await devices.start(users);
    const counter = new Counter();
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const waiting = new Map<string, () => void>();
    let lastDecrypt = 0;
    const joined = new Set<string>();
    for (const client of clients) {
      client.on('joined', ({ groupId }) => joined.add(`${client.deviceId} ${groupId}`));
      client.on('message', (m) => {
        if (!incoming(m)) return;
        const t = now();
        if (!counter.record(client.deviceId, m.text)) return;
        latencies.push(t - sentAt.get(m.text)!);
        lastDecrypt = t;
        waiting.get(m.text)?.();
      });
    }

    // Each pair's direct chat: the first person opens it, the second joins from its Welcome.
    const chats: string[] = [];
    await pool(
      Array.from({ length: p.pairs }, (_, i) => i),
      8,
      async (i) => {
        const [a, b] = [clients[2 * i]!, clients[2 * i + 1]!];
        const chat = await a.openDirect(b.accountId);
        chats[i] = chat.groupId;
        await until(() => joined.has(`${b.deviceId} ${chat.groupId}`), `pair ${i}'s join`);
      },
    );

    const perSender = Math.max(1, Math.ceil(p.messages / (2 * p.pairs)));
    for (let i = 0; i < p.pairs; i++)
      for (const [from, to] of [
        [2 * i, 2 * i + 1],
        [2 * i + 1, 2 * i],
      ] as const)
        for (let n = 0; n < perSender; n++) counter.expect(clients[to]!.deviceId, text(`p ${from} ${n}`));

    progress(`e2e: ${p.pairs} pairs sending ${perSender} messages each way`);
    const cpuBefore = cpuMicros(server.pid);
    const start = now();
    const sender = async (client: SecureClient, groupId: string, from: number) => {
      for (let n = 0; n < perSender; n++) {
        const body = text(`p ${from} ${n}`);
        let timer: NodeJS.Timeout | undefined;
        const decrypted = new Promise<void>((resolve, reject) => {
          waiting.set(body, resolve);
          timer = setTimeout(() => reject(new Error(`p ${from} ${n} was not decrypted`)), WAIT_MS);
        });
        sentAt.set(body, now());
        try {
          await client.sendText(groupId, body);
          await decrypted;
        } finally {
          clearTimeout(timer);
          waiting.delete(body);
        }
      }
    };
    await Promise.all(
      chats.flatMap((groupId, i) => [
        sender(clients[2 * i]!, groupId, 2 * i),
        sender(clients[2 * i + 1]!, groupId, 2 * i + 1),
      ]),
    );
    const cpu = cpuMicros(server.pid) - cpuBefore;
    const tally = counter.tally();
    const seconds = (lastDecrypt - start) / 1000;
    progress(`e2e: ${latencies.length} 1:1 messages decrypted in ${round(seconds, 2)} s`);
    return {
      tally,
      figures: [
        round(latencies.length / seconds),
        round(percentile(latencies, 50), 2),
        round(percentile(latencies, 99), 2),
        latencies.length > 0 ? round(cpu / latencies.length) : null,
      ],
    };
  } finally {
    await devices.close();
  }
}

interface GroupOutcome {
  tally: Tally;
  joined: number;
  figures: (number | null)[];
}

async function runGroup(
  server: BenchServer,
  users: readonly BenchUser[],
  p: E2eParams,
  parent?: string,
): Promise<GroupOutcome> {
  const devices = new Devices(server.url, p.perCommit, parent);
  try {
    progress(`e2e: starting ${users.length} group members' devices`);
    const tStart = now();
    const clients = await devices.start(users);
    progress(`e2e: ${users.length} devices ready in ${round((now() - tStart) / 1000)} s`);
    const [owner, ...others] = clients as [SecureClient, ...SecureClient[]];
    // Each member's latest epoch per chat, from its own events (no polling of stores).
    const epochs = new Map<string, number>();
    const counter = new Counter();
    const sentAt = new Map<string, number>();
    const received = new Map<string, number>();
    const lastMember: number[] = [];
    let decrypts = 0;
    let lastDecrypt = 0;
    for (const client of others) {
      const seen = ({ groupId, epoch }: { groupId: string; epoch: number }) =>
        epochs.set(`${client.deviceId} ${groupId}`, epoch);
      client.on('joined', seen);
      client.on('epoch', seen);
    }
    for (const client of clients) {
      client.on('message', (m) => {
        if (!incoming(m)) return;
        const t = now();
        if (!counter.record(client.deviceId, m.text)) return;
        decrypts++;
        lastDecrypt = t;
        const count = (received.get(m.text) ?? 0) + 1;
        received.set(m.text, count);
        if (count === clients.length - 1) lastMember.push(t - sentAt.get(m.text)!);
      });
    }

    const tCreate = now();
    const group = await owner.createGroup(
      'e2e',
      others.map((c) => c.accountId),
    );
    const createSeconds = (now() - tCreate) / 1000;
    const epoch = (await owner.epoch(group.groupId))!;
    progress(
      `e2e: created the group and added ${others.length} in ${round(createSeconds)} s (epoch ${epoch})`,
    );
    const atEpoch = () =>
      others.filter((c) => (epochs.get(`${c.deviceId} ${group.groupId}`) ?? -1) >= epoch).length;
    await untilCount(atEpoch, others.length, 'every member to join');
    const joinSeconds = (now() - tCreate) / 1000;
    progress(`e2e: every member joined in ${round(joinSeconds)} s`);

    const senders = clients.slice(0, Math.max(1, Math.min(p.senders, clients.length)));
    const texts = senders.map(() => [] as string[]);
    for (let n = 0; n < p.burst; n++) texts[n % senders.length]!.push(text(`g ${n % senders.length} ${n}`));
    for (const [s, list] of texts.entries())
      for (const body of list)
        for (const client of clients) if (client !== senders[s]) counter.expect(client.deviceId, body);

    progress(`e2e: ${senders.length} members sending a burst of ${p.burst}`);
    const cpuBefore = cpuMicros(server.pid);
    const tBurst = now();
    await Promise.all(
      senders.map(async (client, s) => {
        for (const body of texts[s]!) {
          sentAt.set(body, now());
          await client.sendText(group.groupId, body);
        }
      }),
    );
    await untilCount(() => decrypts, p.burst * (clients.length - 1), 'every member to decrypt the burst');
    const cpu = cpuMicros(server.pid) - cpuBefore;
    const seconds = (lastDecrypt - tBurst) / 1000;
    progress(`e2e: ${decrypts} group decryptions in ${round(seconds, 2)} s`);
    return {
      tally: counter.tally(),
      joined: atEpoch(),
      figures: [
        round(createSeconds, 2),
        round(joinSeconds, 2),
        round(decrypts / seconds),
        round(p.burst / seconds, 2),
        round(percentile(lastMember, 50), 2),
        round(percentile(lastMember, 99), 2),
        decrypts > 0 ? round(cpu / decrypts, 1) : null,
      ],
    };
  } finally {
    await devices.close();
  }
}

/**
 * Registers the accounts, runs the 1:1 phase and then the group phase on `server`. The device stores
 * go in a `courier-e2e-*` folder under `tmpRoot` (default the system's), removed after each phase.
 */
export async function runE2e(
  server: BenchServer,
  p: E2eParams,
  storage: string,
  tmpRoot?: string,
): Promise<E2eResult> {
  if (p.pairs < 1 || p.messages < 1 || p.members < 2 || p.burst < 1)
    throw new Error('e2e needs at least 1 pair, 1 message, 2 members and a burst of 1');
  progress(`e2e: registering ${2 * p.pairs + p.members} accounts`);
  const users = await server.register(2 * p.pairs + p.members);
  const pairs = await runPairs(server, users.slice(0, 2 * p.pairs), p, tmpRoot);
  // A group phase that fails still leaves the 1:1 figures measured; its own figures are null.
  let group: GroupOutcome;
  let groupError: string | undefined;
  try {
    group = await runGroup(server, users.slice(2 * p.pairs), p, tmpRoot);
  } catch (error) {
    progress(`e2e: the group phase failed: ${(error as Error).stack ?? error}`);
    groupError = String((error as Error).message ?? error);
    const none = { expected: 0, exactlyOnce: 0, duplicated: 0, missing: 0, unexpected: 0 };
    group = { tally: none, joined: 0, figures: [null, null, null, null, null, null, null] };
  }
  const units = ['msg/s', 'ms', 'ms', 'us', 's', 's', 'decrypts/s', 'msg/s', 'ms', 'ms', 'us'];
  const values = [...pairs.figures, ...group.figures];
  const params = {
    pairs: p.pairs,
    messages: p.messages,
    members: p.members,
    burst: p.burst,
    senders: p.senders,
    perCommit: p.perCommit,
    size: SIZE,
  };
  return {
    pairs: pairs.tally,
    group: group.tally,
    joined: group.joined,
    figures: E2E_FIGURES.map((figure, i) => ({
      bench: 'e2e',
      figure,
      value: values[i] ?? null,
      unit: units[i]!,
      params,
      storage,
      ...(groupError !== undefined && figure.startsWith('group_') ? { error: groupError } : {}),
    })),
  };
}
