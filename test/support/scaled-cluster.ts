import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  decodeServerFrame,
  type Endpoint,
  encodeClientFrame,
  GATEWAY_PATH,
  PROTOCOL_VERSION,
  type ServerFrame,
  signEndpointList,
} from '@courier/protocol';
import { CourierHttp, EndpointBook, EndpointFailover } from '@courier/sdk';
import WebSocket from 'ws';
import { nextPhone } from './harness.ts';
import { codeFromOutbox, freePort } from './server-process.ts';
import { tcpOpen, until } from './until.ts';

/**
 * The scaled shape as separate processes: a private PostgreSQL cluster and a private nats-server
 * (so that they can be stopped and restarted without touching the shared ones other tests use) and
 * `nodeCount` `courier-server serve` processes on them. Shared by test/scaled-faults.test.ts and
 * `npm run bench -- scaled-faults`.
 *
 * Everything started here is removed on every exit path: `close()`, and, should the test process
 * itself end first, an exit/SIGINT/SIGTERM hook that kills each process group and the PostgreSQL
 * cluster synchronously.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const PG_BIN = process.env.COURIER_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const NATS_BIN = process.env.COURIER_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';
/** PostgreSQL refuses to run as root: as root, the cluster belongs to this user. */
const PG_USER = 'postgres';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  child: ChildProcess | undefined;
  log: string;
}

export interface RegisteredUser {
  phone: string;
  accountId: string;
  deviceId: string;
  token: string;
  http: CourierHttp;
}

const live = new Set<ScaledCluster>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const cluster of live) cluster.closeSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      for (const cluster of live) cluster.closeSync();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
}

export class ScaledCluster {
  readonly nodes: ClusterNode[];
  private nats: ChildProcess | undefined;
  private pgRunning = false;
  private closed = false;
  private readonly listKey = ed25519.utils.randomSecretKey();

  private constructor(
    readonly dir: string,
    readonly pgPort: number,
    readonly natsPort: number,
    ports: number[],
  ) {
    this.nodes = ports.map((port, i) => ({
      id: `node-${i}`,
      port,
      url: `http://127.0.0.1:${port}`,
      child: undefined,
      log: '',
    }));
  }

  get postgresRunning(): boolean {
    return this.pgRunning;
  }

  get databaseUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.pgPort}/courier`;
  }

  get natsUrl(): string {
    return `nats://127.0.0.1:${this.natsPort}`;
  }

  /** Starts PostgreSQL, NATS and the nodes (the first alone, so it migrates the empty database). */
  static async start(nodeCount = 3): Promise<ScaledCluster> {
    hookExit();
    const dir = mkdtempSync(join(tmpdir(), 'courier-scaled-'));
    const ports: number[] = [];
    for (let i = 0; i < nodeCount; i++) ports.push(await freePort());
    const cluster = new ScaledCluster(dir, await freePort(), await freePort(), ports);
    live.add(cluster);
    try {
      cluster.initPostgres();
      await cluster.startPostgres();
      execFileSync(
        join(PG_BIN, 'createdb'),
        ['-h', '127.0.0.1', '-p', String(cluster.pgPort), '-U', 'postgres', 'courier'],
        { stdio: 'ignore' },
      );
      await cluster.startNats();
      await cluster.startNode(0);
      await Promise.all(cluster.nodes.slice(1).map((_, i) => cluster.startNode(i + 1)));
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  // ---- PostgreSQL --------------------------------------------------------------------------

  private get pgData(): string {
    return join(this.dir, 'pg', 'data');
  }

  private pgCtl(args: string[]): void {
    const command = [join(PG_BIN, 'pg_ctl'), '-D', this.pgData, ...args];
    if (process.getuid?.() === 0)
      execFileSync('runuser', ['-u', PG_USER, '--', ...command], {
        stdio: 'ignore',
        cwd: join(this.dir, 'pg'),
      });
    else execFileSync(command[0]!, command.slice(1), { stdio: 'ignore' });
  }

  private initPostgres(): void {
    const pgDir = join(this.dir, 'pg');
    mkdirSync(pgDir);
    const initdb = [join(PG_BIN, 'initdb'), '-D', this.pgData, '-A', 'trust', '-U', 'postgres', '--no-sync'];
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', PG_USER], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', PG_USER], { encoding: 'utf8' }).trim());
      // The postgres user must reach its folder inside this one (which mkdtemp makes 0700).
      chmodSync(this.dir, 0o711);
      chownSync(pgDir, uid, gid);
      execFileSync('runuser', ['-u', PG_USER, '--', ...initdb], { stdio: 'ignore', cwd: pgDir });
    } else {
      execFileSync(initdb[0]!, initdb.slice(1), { stdio: 'ignore' });
    }
  }

  /** Starts the cluster and waits until it accepts connections. */
  async startPostgres(): Promise<void> {
    const options = `-p ${this.pgPort} -k ${join(this.dir, 'pg')} -c listen_addresses=127.0.0.1 -c max_connections=200`;
    this.pgCtl(['-o', options, '-l', join(this.dir, 'pg', 'log'), '-w', 'start']);
    this.pgRunning = true;
  }

  /** Stops the cluster ("fast": open sessions are cut off, as in a crash of the database host's service). */
  async stopPostgres(): Promise<void> {
    this.pgCtl(['-m', 'fast', '-w', 'stop']);
    this.pgRunning = false;
  }

  // ---- NATS -------------------------------------------------------------------------------

  async startNats(): Promise<void> {
    const child = spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(this.natsPort)], {
      detached: true,
      stdio: 'ignore',
    });
    this.nats = child;
    await until(() => tcpOpen('127.0.0.1', this.natsPort), 'nats-server to listen', 15_000);
  }

  /** Stops nats-server (SIGTERM, as a service manager's restart does) and waits until it is gone. */
  async stopNats(): Promise<void> {
    const child = this.nats;
    this.nats = undefined;
    if (child) await endProcess(child, 'SIGTERM');
  }

  async restartNats(): Promise<void> {
    await this.stopNats();
    await this.startNats();
  }

  // ---- nodes ------------------------------------------------------------------------------

  private writeNodeConfig(i: number): string {
    const file = join(this.dir, `node-${i}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        host: '127.0.0.1',
        port: this.nodes[i]!.port,
        logLevel: 'warn',
        // The log SMS adapter (codes read from the outbox file) runs only in explicit development mode.
        dev: true,
        dataDir: join(this.dir, `node-${i}`),
        storage: { kind: 'postgres', url: this.databaseUrl, poolSize: 10 },
        bus: { kind: 'nats', servers: [this.natsUrl], subject: 'courier.scaled' },
        sms: { kind: 'log', outboxFile: this.outbox(i) },
        auth: {
          requestsPerIp: 100_000,
          codesPerPhone: 1000,
          codesPerPhonePerSource: 1000,
          smsPerWindow: 1_000_000,
        },
        // A load rig: its test users may put each other in groups (a deployment choice, docs/protocol.md "Consent").
        consent: { defaultGroupAdd: 'everybody' },
        // Every node signs with the operator's one key and certifies with the one certification key.
        transparency: { keyFile: join(this.dir, 'transparency.key') },
        mls: { certificationKeyFile: join(this.dir, 'certification.key') },
      }),
    );
    return file;
  }

  private outbox(i: number): string {
    return join(this.dir, `sms-${i}.jsonl`);
  }

  /** Starts node `i` as its own process group and waits until /readyz answers; returns the ms it took. */
  async startNode(i: number, timeoutMs = 60_000): Promise<number> {
    const node = this.nodes[i]!;
    if (this.alive(i)) throw new Error(`${node.id} is running already`);
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'packages/server/src/main.ts', 'serve', '--config', this.writeNodeConfig(i)],
      { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
    );
    node.child = child;
    node.log = '';
    const keep = (d: Buffer) => {
      node.log = (node.log + String(d)).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = started + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${node.id} exited (${child.exitCode ?? child.signalCode}):\n${node.log}`);
      if (await this.ready(i)) return Date.now() - started;
      if (Date.now() > deadline) throw new Error(`${node.id} did not become ready:\n${node.log}`);
      await sleep(50);
    }
  }

  /** kill -9 of the node's process group. */
  async killNode(i: number): Promise<void> {
    const node = this.nodes[i]!;
    const child = node.child;
    node.child = undefined;
    if (child) await endProcess(child, 'SIGKILL');
  }

  /** Whether node `i`'s process is running (it has not crashed). */
  alive(i: number): boolean {
    const child = this.nodes[i]!.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** One /readyz poll: true when it answers 200. */
  async ready(i: number): Promise<boolean> {
    return (await this.readyStatus(i)) === 200;
  }

  /** The /readyz status code of node `i` (0 when it does not answer within 5 s). */
  async readyStatus(i: number): Promise<number> {
    try {
      const reply = await fetch(`${this.nodes[i]!.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
      await reply.arrayBuffer();
      return reply.status;
    } catch {
      return 0;
    }
  }

  /** Polls /readyz until node `i` answers 200; returns the ms it took. */
  async untilReady(i: number, timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    await until(() => this.ready(i), `${this.nodes[i]!.id} to be ready`, timeoutMs, 50);
    return Date.now() - started;
  }

  // ---- clients ----------------------------------------------------------------------------

  /** Registers a new account (and its first device) through node `via`. */
  async register(via = 0): Promise<RegisteredUser> {
    const phone = nextPhone();
    const http = new CourierHttp(this.nodes[via]!.url);
    await http.requestCode(phone, 'register');
    const { version } = await http.privacyPolicy();
    const reply = await http.verifyCode(
      phone,
      codeFromOutbox(this.outbox(via), phone),
      'register',
      'scaled',
      version,
    );
    http.setToken(reply.token);
    return { phone, accountId: reply.accountId, deviceId: reply.deviceId, token: reply.token, http };
  }

  /** The nodes as one signed endpoint list, as an operator would publish it. */
  endpoints(): Endpoint[] {
    return this.nodes.map((n) => ({ id: n.id, kind: 'core' as const, url: n.url, weight: 10 }));
  }

  /** A client's failover over every node, starting with node `home` (its last good endpoint). */
  failover(home: number): EndpointFailover {
    const now = Date.now();
    const book = new EndpointBook({
      trustedKeys: [ed25519.getPublicKey(this.listKey)],
      bootstrap: signEndpointList(
        {
          version: 1,
          serial: 1,
          issuedAt: now - 1000,
          expiresAt: now + 86_400_000,
          corePins: [],
          endpoints: this.endpoints(),
        },
        this.listKey,
      ),
    });
    return new EndpointFailover({
      book,
      lastGood: this.nodes[home]!.id,
      timings: { staggerMs: 250, attemptTimeoutMs: 2_000, failCooldownMs: 30_000 },
    });
  }

  // ---- teardown ---------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.nodes.map((_, i) => this.killNode(i)));
    await this.stopNats();
    this.closeSync();
  }

  /** Synchronous teardown, usable from an exit hook: kills every process group, stops PostgreSQL. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    for (const node of this.nodes) {
      if (node.child) killGroup(node.child, 'SIGKILL');
      node.child = undefined;
    }
    if (this.nats) killGroup(this.nats, 'SIGKILL');
    this.nats = undefined;
    if (this.pgRunning) {
      try {
        this.pgCtl(['-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone.
      }
      this.pgRunning = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Gone.
    }
  }
}

/** Signals the child's process group and waits for the child to exit (SIGKILL after 10 s). */
function endProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    killGroup(child, signal);
  });
}

/**
 * A device speaking the gateway's frames directly, to see exactly what the server answers a send
 * (the SDK retries a 5xx answer by itself, so the answer never reaches its caller).
 */
export class FrameProbe {
  private nextRequest = 1;
  private readonly pending = new Map<number, (frame: ServerFrame | Error) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('close', (code) => {
      for (const done of this.pending.values())
        done(new Error(`the connection closed (${code}) before an answer`));
      this.pending.clear();
    });
  }

  static async connect(baseUrl: string, token: string): Promise<FrameProbe> {
    const url = new URL(GATEWAY_PATH, baseUrl);
    url.protocol = 'ws:';
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const probe = new FrameProbe(ws);
    await new Promise<void>((resolveReady, reject) => {
      ws.on('open', () =>
        ws.send(
          encodeClientFrame({
            type: 'hello',
            protocolVersion: PROTOCOL_VERSION,
            token,
            client: 'probe',
            sendOnly: true,
          }),
        ),
      );
      ws.on('error', reject);
      ws.on('close', (code) => reject(new Error(`closed ${code}`)));
      ws.on('message', (data) => {
        const frame = decodeServerFrame(data as Buffer);
        if (frame.type === 'ready') resolveReady();
        if (frame.type === 'accepted' || frame.type === 'error') {
          probe.pending.get(frame.requestId)?.(frame);
          probe.pending.delete(frame.requestId);
        }
      });
    });
    return probe;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one message; resolves with the server's answer (an `accepted` or an `error` frame). */
  send(groupId: string, clientMsgId: string, payload: Uint8Array, timeoutMs = 15_000): Promise<ServerFrame> {
    const requestId = this.nextRequest++;
    return new Promise((resolveFrame, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error('no answer to the send'));
      }, timeoutMs);
      this.pending.set(requestId, (frame) => {
        clearTimeout(timer);
        if (frame instanceof Error) reject(frame);
        else resolveFrame(frame);
      });
      this.ws.send(encodeClientFrame({ type: 'send', requestId, groupId, clientMsgId, payload }));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}
