import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CourierHttp } from '@courier/sdk';
import pg from 'pg';
import { onExitCleanup } from '../test/support/exit-cleanup.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

export type BenchStorage = 'sqlite' | 'postgres';

/** The server under test, as its own process, with a fresh database. */
/** An account registered for a workload, with its one device's session. */
export interface BenchUser {
  accountId: string;
  deviceId: string;
  token: string;
  http: CourierHttp;
}

export class BenchServer {
  private offset = 0;
  private policyVersion: string | undefined;
  private readonly codes = new Map<string, string>();

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string,
    private readonly cleanup: () => Promise<void>,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(storage: BenchStorage, port: number): Promise<BenchServer> {
    const dir = mkdtempSync(join(tmpdir(), 'courier-bench-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        logLevel: 'error',
        auth: {
          requestsPerIp: 1_000_000_000,
          codesPerPhone: 1_000_000,
          codesPerPhonePerSource: 1_000_000,
          smsPerWindow: 1_000_000_000,
        },
        // The workloads put their generated users in groups: a rig where anyone may add anyone.
        consent: { defaultGroupAdd: 'everybody' },
        // The fan-out workload sends faster than a default slow-consumer window tolerates on a shared core.
        delivery: { slowConsumerMs: 120_000 },
        // A load client starved by a loaded machine (10,000 subscriptions, 64 at a time) may leave a
        // request's head on a kept-alive connection for more than the default 10 s: not a slowloris.
        connections: { headersTimeoutMs: 120_000, requestTimeoutMs: 120_000 },
      }),
    );
    let cleanup = async () => {};
    const env: Record<string, string> = {
      COURIER_CONFIG: config,
      COURIER_PORT: String(port),
      COURIER_SMS_OUTBOX: join(dir, 'sms.jsonl'),
      // Development mode: the bench reads codes from the log adapter's outbox.
      COURIER_DEV: '1',
      COURIER_DATA_DIR: dir,
      COURIER_TRANSPARENCY_KEY: join(dir, 'transparency.key'),
      COURIER_CERTIFICATION_KEY: join(dir, 'certification.key'),
    };
    if (storage === 'postgres') {
      const name = `courier_bench_${process.pid}`;
      const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
      const run = async (sql: string) => {
        const client = new pg.Client({ connectionString: admin });
        await client.connect();
        try {
          await client.query(sql);
        } finally {
          await client.end();
        }
      };
      await run(`DROP DATABASE IF EXISTS ${name}`);
      await run(`CREATE DATABASE ${name}`);
      env.COURIER_DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${name}`;
      cleanup = () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } else {
      env.COURIER_SQLITE_PATH = join(dir, 'courier.db');
    }
    // BENCH_SERVER_PROFILE=<dir> writes a V8 CPU profile of the server (see docs/bench.md).
    const profile = process.env.BENCH_SERVER_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_PROFILE}`]
      : [];
    // BENCH_SERVER_ROOT=<checkout> runs the server of another checkout (say, the commit before a
    // change) under this load client and floor: before and after measured in one sitting.
    const child = spawn(
      process.execPath,
      [...profile, '--import', 'tsx', 'packages/server/src/main.ts', 'serve'],
      {
        cwd: process.env.BENCH_SERVER_ROOT ?? root,
        env: { ...process.env, ...env },
        // The server's own output goes to stderr: stdout carries only figures.
        stdio: ['ignore', 2, 2],
      },
    );
    // However the bench ends (a crash, Ctrl-C, SIGTERM), the server process and its files go.
    const unregister = onExitCleanup(() => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 180_000; // a loaded machine takes long to compile the server
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
        try {
          if ((await fetch(`${url}/readyz`)).ok) break;
        } catch {
          // not yet listening
        }
        if (Date.now() > deadline) throw new Error('the server did not become ready');
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (error) {
      child.kill('SIGKILL');
      unregister();
      await cleanup().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return new BenchServer(child, url, dir, async () => {
      unregister();
      await cleanup();
    });
  }

  /**
   * Reads the codes the development SMS adapter wrote since the last call: only the bytes added to
   * the outbox since then (reading the whole file for each code made registering n accounts O(n²)).
   */
  private codeFor(phone: string): string | undefined {
    const file = join(this.dir, 'sms.jsonl');
    if (existsSync(file)) {
      const fd = openSync(file, 'r');
      try {
        const size = fstatSync(fd).size;
        if (size > this.offset) {
          const fresh = Buffer.alloc(size - this.offset);
          const read = readSync(fd, fresh, 0, fresh.length, this.offset);
          // Only whole lines: a line still being appended is read on the next call.
          const end = fresh.subarray(0, read).lastIndexOf(0x0a) + 1;
          this.offset += end;
          for (const line of fresh.subarray(0, end).toString('utf8').split('\n')) {
            if (!line) continue;
            const { to, text: body } = JSON.parse(line) as { to: string; text: string };
            const code = body.match(/\b(\d{4,10})\b/)?.[1];
            if (code) this.codes.set(to, code);
          }
        }
      } finally {
        closeSync(fd);
      }
    }
    return this.codes.get(phone);
  }

  /** The newest verification code sent to a number (waits up to a second for it to be written). */
  async code(phone: string): Promise<string> {
    let code = this.codeFor(phone);
    for (let tries = 0; !code && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 10));
      code = this.codeFor(phone);
    }
    if (!code) throw new Error(`no code for ${phone}`);
    return code;
  }

  /** Registers `count` accounts through the API, `concurrency` at a time (numbers +44207nnnnnnn). */
  async register(count: number, concurrency = 32): Promise<BenchUser[]> {
    const users: BenchUser[] = new Array(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const phone = `+44207${String(i).padStart(7, '0')}`;
        const http = new CourierHttp(this.url);
        await http.requestCode(phone, 'register');
        const code = await this.code(phone);
        this.policyVersion ??= (await http.privacyPolicy()).version;
        const reply = await http.verifyCode(phone, code, 'register', 'bench', this.policyVersion);
        http.setToken(reply.token);
        users[i] = { accountId: reply.accountId, deviceId: reply.deviceId, token: reply.token, http };
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return users;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      // A profiled server writes its profile on the way out: give it time to.
      const grace = process.env.BENCH_SERVER_PROFILE ? 60_000 : 5000;
      await Promise.race([exited, new Promise((r) => setTimeout(r, grace))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    await this.cleanup().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
