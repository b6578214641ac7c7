import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { netnsUnavailableReason } from '../support/netns.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const unavailable = netnsUnavailableReason();

interface Started {
  namespaces: string[];
  pids: number[];
  dir: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

/**
 * The bench's scenario in a process of its own (test/support/hold-censor-scenario.ts), ended by a
 * signal or a crash: whatever way it ends, the core, the relays and the namespaces must be gone.
 */
describe.runIf(unavailable === undefined)('a censor scenario cleans up on every exit path', () => {
  const running: ChildProcess[] = [];
  const leftovers: Started[] = [];
  afterEach(() => {
    for (const child of running.splice(0)) child.kill('SIGKILL');
    // Whatever a failed run left behind is removed here, so that one failure does not pile up.
    for (const started of leftovers.splice(0)) {
      for (const pid of started.pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      for (const ns of started.namespaces)
        try {
          execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
        } catch {}
      rmSync(started.dir, { recursive: true, force: true });
    }
  });

  async function startThenEnd(how: 'SIGTERM' | 'SIGINT' | 'crash'): Promise<Started> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/hold-censor-scenario.ts', '1', how === 'crash' ? 'crash' : 'wait'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.push(child);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    let out = '';
    const started = await new Promise<Started>((done, fail) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) done(JSON.parse(line) as Started);
      });
      child.stderr!.resume();
      void exited.then((code) => fail(new Error(`the scenario process exited (${code}) before it started`)));
    });
    leftovers.push(started);
    expect(started.pids.length).toBe(2);
    expect(namespaces()).toContain(started.namespaces[0]);
    child.kill(how === 'crash' ? 'SIGUSR2' : how);
    const code = await exited;
    expect(code).not.toBe(0);
    return started;
  }

  async function expectGone(started: Started) {
    // SIGKILL was sent before the scenario process exited; the kernel may take a moment to reap.
    for (let i = 0; i < 100 && started.pids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
    for (const pid of started.pids) expect(alive(pid), `process ${pid}`).toBe(false);
    const list = namespaces();
    for (const ns of started.namespaces) expect(list).not.toContain(ns);
    expect(existsSync(started.dir)).toBe(false);
  }

  it('on SIGTERM', async () => {
    await expectGone(await startThenEnd('SIGTERM'));
  }, 120_000);

  it('on SIGINT (Ctrl-C)', async () => {
    await expectGone(await startThenEnd('SIGINT'));
  }, 120_000);

  it('on an uncaught exception (as the load client crashed in bench blocking)', async () => {
    await expectGone(await startThenEnd('crash'));
  }, 120_000);
});
