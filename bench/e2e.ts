/**
 * `npm run bench -- e2e [--pairs N] [--messages N] [--members N] [--burst K] [--per-commit N]
 * [--workers W] [--latency-messages N]`: Courier end to end, as people use it. Every device is a real
 * `SecureClient` (MLS, packages/sdk) with the CLI's SQLite device store (one file per device), talking
 * to the bench's own server process over its real protocol. The devices live in `workers` child
 * processes (bench/e2e-worker.ts; default 2, one per core), each with its own temporary folder of
 * SQLite files, removed on every exit path; this process only directs them and counts.
 *
 * - 1:1: `pairs` direct chats; both people of a pair send to each other in a closed loop (at most one
 *   message in flight each: the next goes once the partner's client has decrypted the previous one),
 *   `messages` in all. Figures: messages per second delivered and decrypted (counted on the receiving
 *   client's 'message' event), send → decrypted p50/p99, server CPU per decrypted message.
 * - Group: one group of `members`, created by one member who adds everyone in batched commits (≤
 *   `perCommit` Adds each); every other member is a real client that joins from its Welcome. The join
 *   phase is measured on its own (creation and Adds; every member joined and at the final epoch; the
 *   clients' CPU per joining member). Then `latencyMessages` group messages one at a time (the next
 *   once the last member decrypted the previous; the senders take turns): per message the time until
 *   the LAST member has decrypted it (p50/p99). Then `senders` members send a burst of `burst`
 *   messages back to back: decryptions per second across the group and the burst's messages per
 *   second (first send → the last member decrypted the last one).
 *
 * No targets yet (issue 15: measure and report). Every message is counted per receiving device, so a
 * run also proves that each one was decrypted exactly once by each of its recipients.
 * BENCH_E2E_PROFILE=<dir> writes a V8 CPU profile of each worker process there.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_ADDS_PER_COMMIT } from '@courier/mls';
import { onExitCleanup } from '../test/support/exit-cleanup.ts';
import type { BenchServer, BenchUser } from './bench-server.ts';
import type { WorkerEvents, WorkerPair, WorkerRequest, WorkerUser } from './e2e-worker.ts';
import { pool, SIZE } from './e2e-worker.ts';
import { type Figure, progress, round } from './figure.ts';
import { now } from './lean-client.ts';
import { cpuMicros, percentile } from './server-proc.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

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
  /** Group messages sent one at a time for the last-member latency. */
  latencyMessages: number;
  /** Child processes hosting the devices. */
  workers: number;
  /** Members of a worker connecting (and joining) at once. */
  joinConcurrency: number;
}

export const E2E_DEFAULTS: E2eParams = {
  pairs: 20,
  messages: 2000,
  members: 1000,
  burst: 40,
  senders: 4,
  perCommit: MAX_ADDS_PER_COMMIT,
  latencyMessages: 20,
  workers: 2,
  joinConcurrency: 4,
};

/** The figures, in the order printed (a failed run prints these names with null values). */
export const E2E_FIGURES = [
  'pair_msg_per_s',
  'pair_latency_p50_ms',
  'pair_latency_p99_ms',
  'pair_server_cpu_us_per_msg',
  'group_devices_start_s',
  'group_create_and_add_s',
  'group_join_all_s',
  'group_client_cpu_ms_per_join',
  'group_last_member_p50_ms',
  'group_last_member_p99_ms',
  'group_decrypts_per_s',
  'group_msg_per_s',
  'group_server_cpu_us_per_decrypt',
] as const;

const UNITS: Record<(typeof E2E_FIGURES)[number], string> = {
  pair_msg_per_s: 'msg/s',
  pair_latency_p50_ms: 'ms',
  pair_latency_p99_ms: 'ms',
  pair_server_cpu_us_per_msg: 'us',
  group_devices_start_s: 's',
  group_create_and_add_s: 's',
  group_join_all_s: 's',
  group_client_cpu_ms_per_join: 'ms',
  group_last_member_p50_ms: 'ms',
  group_last_member_p99_ms: 'ms',
  group_decrypts_per_s: 'decrypts/s',
  group_msg_per_s: 'msg/s',
  group_server_cpu_us_per_decrypt: 'us',
};

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

/** Counts decryptions per (receiving device, message name) against the set expected. */
class Counter {
  private readonly counts = new Map<string, number>();
  private readonly wanted = new Set<string>();
  unexpected = 0;

  expect(device: string, name: string): void {
    this.wanted.add(`${device} ${name}`);
  }

  /** Records one decryption; returns whether it was the first of an expected one. */
  record(device: string, name: string): boolean {
    const key = `${device} ${name}`;
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
 * The worker processes of one phase: user i lives in worker i mod W. Requests get one reply each;
 * the workers' batches of events go to `onEvents`. `close` stops the devices and the processes; a
 * crash or signal here kills them (and they stop when this process goes away).
 */
class Workers {
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private readonly where = new Map<string, number>();
  private readonly unregister: () => void;

  private constructor(
    private readonly children: ChildProcess[],
    private readonly dirs: string[],
    readonly onEvents: (events: WorkerEvents) => void,
  ) {
    this.unregister = onExitCleanup(() => this.kill());
    for (const child of children) {
      child.on('message', (message: WorkerEvents | { id: number; value?: unknown; error?: string }) => {
        if ('ev' in message) return this.onEvents(message);
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.value);
      });
      child.on('exit', (code) => {
        for (const [id, waiter] of this.pending) {
          waiter.reject(new Error(`an e2e worker exited (${code}) before answering`));
          this.pending.delete(id);
        }
      });
    }
  }

  static async start(
    count: number,
    users: readonly BenchUser[],
    server: BenchServer,
    p: E2eParams,
    onEvents: (events: WorkerEvents) => void,
    parent?: string,
    place: (i: number, workers: number) => number = (i, workers) => i % workers,
    offline: readonly string[] = [],
  ): Promise<Workers> {
    const profile = process.env.BENCH_E2E_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_E2E_PROFILE}`]
      : [];
    const n = Math.max(1, Math.min(count, users.length));
    // Each worker's device stores in a folder of its own, made here so that this process can remove
    // it whatever becomes of the worker.
    const dirs = Array.from({ length: n }, () => mkdtempSync(join(parent ?? tmpdir(), 'courier-e2e-')));
    const children = Array.from({ length: n }, () =>
      fork(fileURLToPath(new URL('./e2e-worker.ts', import.meta.url)), [], {
        cwd: root,
        execArgv: [...profile, '--import', 'tsx'],
        stdio: ['ignore', 2, 2, 'ipc'],
      }),
    );
    const workers = new Workers(children, dirs, onEvents);
    try {
      const parts: WorkerUser[][] = children.map(() => []);
      for (const [i, user] of users.entries()) {
        const w = place(i, children.length);
        parts[w]!.push({ accountId: user.accountId, deviceId: user.deviceId, token: user.token });
        workers.where.set(user.deviceId, w);
      }
      await Promise.all(
        parts.map((part, w) =>
          workers.request(w, {
            op: 'start',
            url: server.url,
            perCommit: p.perCommit,
            dir: dirs[w]!,
            users: part,
            offline: part.flatMap((u) => (offline.includes(u.deviceId) ? [u.deviceId] : [])),
          }),
        ),
      );
    } catch (error) {
      await workers.close();
      throw error;
    }
    return workers;
  }

  get count(): number {
    return this.children.length;
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid!);
  }

  /** The worker hosting a device. */
  of(device: string): number {
    return this.where.get(device)!;
  }

  request<T = unknown>(worker: number, request: WorkerRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.children[worker]!.send({ id, request });
    });
  }

  /** Asks the worker hosting `device`. */
  on<T = unknown>(device: string, request: WorkerRequest): Promise<T> {
    return this.request<T>(this.of(device), request);
  }

  /** Client CPU (µs) all workers have used. */
  cpu(): number {
    return this.children.reduce((sum, c) => sum + (c.exitCode === null ? cpuMicros(c.pid!) : 0), 0);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(async (child, w) => {
        if (child.exitCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        await Promise.race([
          this.request(w, { op: 'stop' }).catch(() => {}),
          new Promise((r) => setTimeout(r, 60_000)),
        ]);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }),
    );
    this.kill();
    this.unregister();
  }

  /** Kills the workers still running and removes every worker's folder (synchronous: also on exit). */
  private kill(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

interface PairOutcome {
  tally: Tally;
  figures: (number | null)[];
}

async function runPairs(
  server: BenchServer,
  users: readonly BenchUser[],
  p: E2eParams,
  parent?: string,
): Promise<PairOutcome> {
  const counter = new Counter();
  const joined = new Set<string>();
  let decrypts = 0;
  let lastDecrypt = 0;
  progress(`e2e: starting ${users.length} devices for ${p.pairs} pairs in ${p.workers} workers`);
  const workers = await Workers.start(
    p.workers,
    users,
    server,
    p,
    ({ epochs, decrypts: seen }) => {
      for (const [device, groupId] of epochs) joined.add(`${device} ${groupId}`);
      for (const [device, name, t] of seen)
        if (counter.record(device, name)) {
          decrypts++;
          lastDecrypt = Math.max(lastDecrypt, t);
        }
    },
    parent,
    // Both people of a pair in one worker (pair i in worker i mod W), so the closed loop runs there.
    (i, count) => Math.floor(i / 2) % count,
  );
  try {
    // Each pair's direct chat: the first person opens it, the second joins from its Welcome.
    const pairs: WorkerPair[] = [];
    const perSender = Math.max(1, Math.ceil(p.messages / (2 * p.pairs)));
    await pool(
      Array.from({ length: p.pairs }, (_, i) => i),
      8,
      async (i) => {
        const [a, b] = [users[2 * i]!, users[2 * i + 1]!];
        const groupId = await workers.on<string>(a.deviceId, {
          op: 'openDirect',
          device: a.deviceId,
          accountId: b.accountId,
        });
        await untilCount(() => (joined.has(`${b.deviceId} ${groupId}`) ? 1 : 0), 1, `pair ${i}'s join`);
        const names = (from: number) => Array.from({ length: perSender }, (_, n) => `p ${from} ${n}`);
        pairs[i] = { a: a.deviceId, b: b.deviceId, groupId, aTexts: names(2 * i), bTexts: names(2 * i + 1) };
        for (const name of pairs[i]!.aTexts) counter.expect(b.deviceId, name);
        for (const name of pairs[i]!.bTexts) counter.expect(a.deviceId, name);
      },
    );

    progress(`e2e: ${p.pairs} pairs sending ${perSender} messages each way`);
    const cpuBefore = cpuMicros(server.pid);
    const start = now();
    const latencies = (
      await Promise.all(
        Array.from({ length: workers.count }, (_, w) =>
          workers.request<number[]>(w, {
            op: 'pairs',
            pairs: pairs.filter((pair) => workers.of(pair.a) === w),
          }),
        ),
      )
    ).flat();
    const cpu = cpuMicros(server.pid) - cpuBefore;
    const seconds = (lastDecrypt - start) / 1000;
    progress(`e2e: ${decrypts} 1:1 messages decrypted in ${round(seconds, 2)} s`);
    const figures = [
      round(decrypts / seconds),
      round(percentile(latencies, 50), 2),
      round(percentile(latencies, 99), 2),
      decrypts > 0 ? round(cpu / decrypts) : null,
    ];
    // The figures as soon as they exist (stdout gets every figure at the end of a long run).
    progress(
      `e2e: ${E2E_FIGURES.slice(0, 4)
        .map((f, i) => `${f}=${figures[i]}`)
        .join(' ')} (load ${round(loadavg()[0]!, 1)})`,
    );
    return { tally: counter.tally(), figures };
  } finally {
    await workers.close();
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
  // Each member's latest epoch per chat, from its own events (no polling of stores).
  const epochs = new Map<string, number>();
  const counter = new Counter();
  /** Per message name: how many members decrypted it, and when the last one did. */
  const received = new Map<string, { count: number; last: number }>();
  let decrypts = 0;
  let lastDecrypt = 0;
  progress(`e2e: starting ${users.length} group members' devices in ${p.workers} workers`);
  const tStart = now();
  const workers = await Workers.start(
    p.workers,
    users,
    server,
    p,
    ({ epochs: reached, decrypts: seen }) => {
      for (const [device, groupId, epoch] of reached)
        epochs.set(`${device} ${groupId}`, Math.max(epoch, epochs.get(`${device} ${groupId}`) ?? -1));
      for (const [device, name, t] of seen) {
        if (!counter.record(device, name)) continue;
        decrypts++;
        lastDecrypt = Math.max(lastDecrypt, t);
        const r = received.get(name) ?? { count: 0, last: 0 };
        r.count++;
        r.last = Math.max(r.last, t);
        received.set(name, r);
      }
    },
    parent,
    undefined,
    // Members are prepared (identity, key packages) but connect only to join, a few at a time per worker.
    users.slice(1).map((u) => u.deviceId),
  );
  try {
    const startSeconds = (now() - tStart) / 1000;
    progress(`e2e: ${users.length} devices ready in ${round(startSeconds)} s`);
    const [owner, ...others] = users as [BenchUser, ...BenchUser[]];

    const tCreate = now();
    const cpuCreate = workers.cpu();
    const groupId = await workers.on<string>(owner.deviceId, {
      op: 'createGroup',
      device: owner.deviceId,
      title: 'e2e',
      accountIds: others.map((u) => u.accountId),
    });
    const createSeconds = (now() - tCreate) / 1000;
    const epoch = (await workers.on<number>(owner.deviceId, {
      op: 'epoch',
      device: owner.deviceId,
      groupId,
    }))!;
    progress(
      `e2e: created the group and added ${others.length} in ${round(createSeconds)} s (epoch ${epoch})`,
    );
    const atEpoch = () =>
      others.filter((u) => (epochs.get(`${u.deviceId} ${groupId}`) ?? -1) >= epoch).length;
    const joining = Promise.all(
      Array.from({ length: workers.count }, (_, w) =>
        workers.request(w, { op: 'join', groupId, epoch, concurrency: p.joinConcurrency }),
      ),
    );
    // A worker that fails ends the wait too (with its error).
    let failed: unknown;
    joining.catch((error: unknown) => {
      failed = error;
    });
    // A long join phase (1,000 members on a loaded machine) says how far it is every 30 s.
    const joinStarted = now();
    const report = setInterval(
      () =>
        progress(
          `e2e: ${atEpoch()} of ${others.length} joined after ${round((now() - joinStarted) / 1000)} s`,
        ),
      30_000,
    );
    try {
      await untilCount(() => (failed ? others.length : atEpoch()), others.length, 'every member to join');
    } finally {
      clearInterval(report);
    }
    if (failed) throw failed;
    await joining;
    const joinSeconds = (now() - tCreate) / 1000;
    const joinCpu = workers.cpu() - cpuCreate;
    progress(
      `e2e: every member joined in ${round(joinSeconds)} s, client CPU ${round(joinCpu / 1000 / others.length, 1)} ms per join (load ${round(loadavg()[0]!, 1)})`,
    );

    const expectAll = (from: BenchUser, name: string) => {
      for (const user of users) if (user !== from) counter.expect(user.deviceId, name);
    };
    const senders = users.slice(0, Math.max(1, Math.min(p.senders, users.length)));
    const sentAt = new Map<string, number>();
    const send = async (from: BenchUser, names: string[]) => {
      for (const name of names) expectAll(from, name);
      const sent = await workers.on<[string, number][]>(from.deviceId, {
        op: 'send',
        device: from.deviceId,
        groupId,
        names,
      });
      for (const [name, t] of sent) sentAt.set(name, t);
    };

    // Latency: one message at a time, the next once the last member decrypted it.
    progress(`e2e: ${p.latencyMessages} group messages one at a time`);
    const lastMember: number[] = [];
    for (let n = 0; n < p.latencyMessages; n++) {
      const name = `l ${n}`;
      await send(senders[n % senders.length]!, [name]);
      await untilCount(
        () => received.get(name)?.count ?? 0,
        users.length - 1,
        `every member to decrypt ${name}`,
      );
      lastMember.push(received.get(name)!.last - sentAt.get(name)!);
    }

    progress(`e2e: ${senders.length} members sending a burst of ${p.burst}`);
    const names = senders.map(() => [] as string[]);
    for (let n = 0; n < p.burst; n++) names[n % senders.length]!.push(`g ${n % senders.length} ${n}`);
    const decryptsBefore = decrypts;
    const cpuBefore = cpuMicros(server.pid);
    const tBurst = now();
    await Promise.all(senders.map((from, s) => send(from, names[s]!)));
    await untilCount(
      () => decrypts - decryptsBefore,
      p.burst * (users.length - 1),
      'every member to decrypt the burst',
    );
    const cpu = cpuMicros(server.pid) - cpuBefore;
    const burstDecrypts = decrypts - decryptsBefore;
    const seconds = (lastDecrypt - tBurst) / 1000;
    progress(`e2e: ${burstDecrypts} group decryptions in ${round(seconds, 2)} s`);
    if (lastMember.length > 0)
      progress(
        `e2e: last member decrypted p50 ${round(percentile(lastMember, 50), 1)} ms, p99 ${round(percentile(lastMember, 99), 1)} ms; ${round(burstDecrypts / seconds)} decrypts/s (load ${round(loadavg()[0]!, 1)})`,
      );
    return {
      tally: counter.tally(),
      joined: atEpoch(),
      figures: [
        round(startSeconds, 2),
        round(createSeconds, 2),
        round(joinSeconds, 2),
        round(joinCpu / 1000 / others.length, 1),
        lastMember.length > 0 ? round(percentile(lastMember, 50), 1) : null,
        lastMember.length > 0 ? round(percentile(lastMember, 99), 1) : null,
        round(burstDecrypts / seconds),
        round(p.burst / seconds, 2),
        burstDecrypts > 0 ? round(cpu / burstDecrypts, 1) : null,
      ],
    };
  } finally {
    await workers.close();
  }
}

/**
 * Registers the accounts, runs the 1:1 phase and then the group phase on `server`. The device stores
 * go in `courier-e2e-*` folders under `tmpRoot` (default the system's), removed after each phase.
 */
export async function runE2e(
  server: BenchServer,
  p: E2eParams,
  storage: string,
  tmpRoot?: string,
): Promise<E2eResult> {
  if (p.pairs < 1 || p.messages < 1 || p.members < 2 || p.burst < 1 || p.workers < 1)
    throw new Error('e2e needs at least 1 pair, 1 message, 2 members, a burst of 1 and 1 worker');
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
    group = {
      tally: none,
      joined: 0,
      figures: E2E_FIGURES.filter((f) => f.startsWith('group_')).map(() => null),
    };
  }
  const values = [...pairs.figures, ...group.figures];
  const params = { ...p, size: SIZE };
  // The machine is shared: the load average (1 min) at the end of the run goes with every figure.
  const load = round(loadavg()[0]!, 1);
  return {
    pairs: pairs.tally,
    group: group.tally,
    joined: group.joined,
    figures: E2E_FIGURES.map((figure, i) => ({
      bench: 'e2e',
      figure,
      value: values[i] ?? null,
      unit: UNITS[figure],
      params,
      storage,
      load,
      ...(groupError !== undefined && figure.startsWith('group_') ? { error: groupError } : {}),
    })),
  };
}
