import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A test process that started a server (spawnServer) ends abruptly: the server must not outlive it. */
describe('servers started by tests end with the test process', () => {
  const running: ChildProcess[] = [];
  const left: { pid: number; dir: string }[] = [];
  afterEach(() => {
    for (const child of running.splice(0)) child.kill('SIGKILL');
    for (const { pid, dir } of left.splice(0)) {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  async function serverAfter(how: 'SIGTERM' | 'SIGINT' | 'crash'): Promise<number> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/hold-server.ts', how === 'crash' ? 'crash' : 'wait'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.push(child);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.stderr!.resume();
    const started = await new Promise<{ pid: number; dir: string }>((done, fail) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) done(JSON.parse(line) as { pid: number; dir: string });
      });
      void exited.then((code) => fail(new Error(`exited (${code}) before the server was up`)));
    });
    left.push(started);
    expect(alive(started.pid)).toBe(true);
    if (how !== 'crash') child.kill(how);
    expect(await exited).not.toBe(0);
    for (let i = 0; i < 100 && alive(started.pid); i++) await new Promise((r) => setTimeout(r, 50));
    return started.pid;
  }

  it('on SIGTERM', async () => {
    expect(alive(await serverAfter('SIGTERM'))).toBe(false);
  });

  it('on SIGINT', async () => {
    expect(alive(await serverAfter('SIGINT'))).toBe(false);
  });

  it('on an uncaught exception', async () => {
    expect(alive(await serverAfter('crash'))).toBe(false);
  });
});
