import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeFromOutbox } from './server-process.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  exit: Promise<number>;
  out: () => string;
  err: () => string;
}

/**
 * Runs `courier` as a real process for one profile folder (`<dir>/<who>`) against a server; the
 * caller ends its standard input or kills it. Processes still running are in `running`.
 */
export function cliRunner(dir: string, serverUrl: () => string) {
  const running = new Set<ChildProcess>();
  const start = (who: string, args: string[]): CliRun => {
    const child = spawn(
      process.execPath,
      ['packages/cli/bin/courier.js', '--home', join(dir, who), '--server', serverUrl(), ...args],
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
    return { child, exit, out: () => out, err: () => err };
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
