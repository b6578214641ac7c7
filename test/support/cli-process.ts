import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { codeFromOutbox, freePort, killHard, type ServerProcess, spawnServer } from './server-process.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  exit: Promise<number>;
  out: () => string;
  err: () => string;
  /** Lines printed on standard output that are messages or roster changes (`[chat] …`). */
  entries: () => string[];
  /** Waits (15 s at most, and not past the process's exit) until `predicate` holds. */
  until: (what: string, predicate: (run: CliRun) => boolean) => Promise<void>;
}

/**
 * Runs `courier` as a real process for one profile folder (`<dir>/<who>`) against a server; the
 * caller ends its standard input or kills it. Processes still running are in `running`.
 */
export function cliRunner(dir: string, serverUrl: () => string) {
  const running = new Set<ChildProcess>();
  /** `server: false` leaves `--server` out (the profile's remembered server is used). */
  const start = (who: string, args: string[], options: { server?: boolean } = {}): CliRun => {
    const server = options.server === false ? [] : ['--server', serverUrl()];
    const child = spawn(
      process.execPath,
      ['packages/cli/bin/courier.js', '--home', join(dir, who), ...server, ...args],
      { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, COURIER_SERVER: '' } },
    );
    running.add(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    const exit = new Promise<number>((resolve) =>
      child.on('close', (code) => {
        running.delete(child);
        resolve(code ?? -1);
      }),
    );
    const run: CliRun = {
      child,
      exit,
      out: () => out,
      err: () => err,
      entries: () => out.split('\n').filter((l) => l.startsWith('[')),
      until: async (what, predicate) => {
        const deadline = Date.now() + 15_000;
        while (!predicate(run)) {
          if (Date.now() > deadline || child.exitCode !== null)
            throw new Error(`gave up waiting for ${what}; stdout:\n${out}\nstderr:\n${err}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      },
    };
    return run;
  };
  /** Runs one command to its end, with nothing on its standard input. */
  const courier = async (who: string, ...args: string[]) => {
    const run = start(who, args);
    run.child.stdin?.end();
    const code = await run.exit;
    return { code, out: run.out(), err: run.err() };
  };
  /**
   * Signs a profile up as a script does (`--request-only`, then `--code` read from the development
   * SMS outbox, policy accepted); throws unless both steps exit 0.
   */
  const register = async (who: string, phone: string, outbox: string) => {
    const asked = await courier(who, 'register', phone, '--request-only');
    if (asked.code !== 0) throw new Error(`register ${phone} --request-only: ${asked.err}`);
    const done = await courier(
      who,
      'register',
      phone,
      '--code',
      codeFromOutbox(outbox, phone),
      '--accept-policy',
    );
    if (done.code !== 0) throw new Error(`register ${phone}: ${done.err}`);
  };
  return { start, courier, register, running };
}

/**
 * For one describe block: a real `courier-server serve` process (SQLite, keys and the development SMS
 * outbox in a temporary folder) started before its tests, and the `courier` runner for profile folders
 * beside it. After the tests, every `courier` process still running and the server are killed and the
 * folder is removed.
 */
export function cliServer(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `courier-${name}-`));
  const outbox = join(dir, 'sms.jsonl');
  let server: ServerProcess | undefined;
  const serverNow = (): ServerProcess => {
    if (!server) throw new Error('the server is not running (yet)');
    return server;
  };
  const runner = cliRunner(dir, () => serverNow().url);
  beforeAll(async () => {
    server = await spawnServer(
      {
        COURIER_SQLITE_PATH: join(dir, 'courier.db'),
        COURIER_SMS_OUTBOX: outbox,
        COURIER_TRANSPARENCY_KEY: join(dir, 'key'),
        COURIER_CERTIFICATION_KEY: join(dir, 'certification.key'),
      },
      await freePort(),
    );
  });
  afterAll(async () => {
    for (const child of runner.running) child.kill('SIGKILL');
    if (server) await killHard(server.child);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    ...runner,
    dir,
    outbox,
    /** The server's URL (once it runs). */
    url: () => serverNow().url,
    /** Signs a profile up from a script (see `cliRunner`'s `register`), with this server's outbox. */
    register: (who: string, phone: string) => runner.register(who, phone, outbox),
  };
}
