import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExitCleanup } from './exit-cleanup.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/**
 * Starts `courier-server serve` as a real process and waits until /readyz answers. Development
 * mode (codes in the log and the outbox) unless `env` sets COURIER_DEV; the data folder is the
 * SQLite file's unless `env` names one.
 */
export async function spawnServer(env: Record<string, string>, port: number): Promise<ServerProcess> {
  const dataDir = env.COURIER_SQLITE_PATH ? { COURIER_DATA_DIR: dirname(env.COURIER_SQLITE_PATH) } : {};
  // The `courier-server` bin: the compiled command (the test run's global setup builds it fresh).
  const child = spawn(process.execPath, ['packages/server/bin/courier-server.js', 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      COURIER_PORT: String(port),
      COURIER_LOG_LEVEL: 'warn',
      COURIER_DEV: '1',
      ...dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // However the test process ends (a crash, Ctrl-C, SIGTERM), the server goes with it.
  child.once(
    'exit',
    onExitCleanup(() => child.kill('SIGKILL')),
  );
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a shared, loaded machine a start can take tens of seconds.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, output: () => output };
}

/** The newest verification code the development SMS adapter wrote for a number. */
export function codeFromOutbox(outboxFile: string, phone: string): string {
  const lines = readFileSync(outboxFile, 'utf8').trim().split('\n').reverse();
  for (const line of lines) {
    const { to, text } = JSON.parse(line) as { to: string; text: string };
    const code = text.match(/\b(\d{4,10})\b/)?.[1];
    if (to === phone && code) return code;
  }
  throw new Error(`no code for ${phone} in ${outboxFile}`);
}

export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
