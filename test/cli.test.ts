import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeFromOutbox,
  freePort,
  killHard,
  type ServerProcess,
  spawnServer,
} from './support/server-process.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const ALICE = '+441234567890';
const BOB = '+12025550143';

/** Two people at two terminals: each has a profile folder and runs `courier` as a real process. */
describe('the courier CLI against a real server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-cli-'));
  const outbox = join(dir, 'sms.jsonl');
  let server: ServerProcess;
  const running: ChildProcess[] = [];

  const args = (who: string, rest: string[]) => [
    '--import',
    'tsx',
    'packages/cli/src/main.ts',
    '--server',
    server.url,
    '--home',
    join(dir, who),
    ...rest,
  ];

  function courier(who: string, ...rest: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, args(who, rest), {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    });
  }

  /** A long-running `courier listen`, whose printed lines we can wait for. */
  function listen(who: string) {
    const child = spawn(process.execPath, args(who, ['listen']), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const lines = () => out.split('\n').filter((l) => l.length > 0);
    return {
      lines,
      until: async (predicate: (lines: string[]) => boolean, what: string) => {
        const deadline = Date.now() + 20_000;
        while (!predicate(lines())) {
          if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}; stdout:\n${out}\nstderr:\n${err}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      stop: () =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGINT');
        }),
    };
  }

  async function signUp(who: string, phone: string) {
    expect((await courier(who, 'register', phone, '--request-only')).code).toBe(0);
    const done = await courier(
      who,
      'register',
      phone,
      '--code',
      codeFromOutbox(outbox, phone),
      '--accept-policy',
    );
    expect(done.code).toBe(0);
    expect(done.out).toContain(`Registered ${phone}`);
  }

  beforeAll(async () => {
    server = await spawnServer(
      {
        COURIER_SQLITE_PATH: join(dir, 'courier.db'),
        COURIER_SMS_OUTBOX: outbox,
        COURIER_TRANSPARENCY_KEY: join(dir, 'key'),
      },
      await freePort(),
    );
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    if (server) await killHard(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs up, finds people, runs chats and groups, and delivers live and after a restart, once', async () => {
    // A wrong code is refused with its catalog code and a non-zero exit.
    await courier('alice', 'register', ALICE, '--request-only');
    const wrong = await courier('alice', 'register', ALICE, '--code', '000001', '--accept-policy');
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/error AUTH_CODE_(INVALID|EXPIRED)/);

    await signUp('alice', ALICE);
    await signUp('bob', BOB);
    expect((await courier('alice', 'username', 'set', 'alice_1')).out).toContain('@alice_1');
    expect((await courier('bob', 'username', 'set', 'bob_22')).out).toContain('@bob_22');
    expect((await courier('bob', 'lookup', '@alice_1')).out).toContain('@alice_1');
    expect((await courier('alice', 'lookup', BOB)).out).toContain('@bob_22');
    expect((await courier('bob', 'dm', '@alice_1')).out).toMatch(/Direct chat with @alice_1: g_/);

    expect((await courier('alice', 'group', 'create', 'Climbers', '@bob_22')).out).toContain(
      'Created "Climbers"',
    );
    expect((await courier('bob', 'group', 'add', 'Climbers', '@alice_1')).err).toContain('GROUP_NOT_ADMIN');
    expect((await courier('alice', 'group', 'promote', 'Climbers', '@bob_22')).code).toBe(0);
    const shown = await courier('bob', 'group', 'show', 'Climbers');
    expect(shown.out).toMatch(/owner\s+@alice_1/);
    expect(shown.out).toMatch(/admin\s+@bob_22/);

    const bobListens = listen('bob');
    await bobListens.until((l) => l.some((x) => x.includes('made @bob_22 admin')), 'the roster history');
    for (const text of ['one', 'two', 'three']) {
      const sent = await courier('alice', 'send', '@bob_22', text);
      expect(sent.out).toMatch(/Sent to @bob_22 \(#\d+\)/);
    }
    await bobListens.until(
      (l) => l.filter((x) => x.startsWith('[@alice_1] @alice_1:')).length === 3,
      'three live messages',
    );
    await bobListens.stop();

    await courier('alice', 'send', '@bob_22', 'four');
    await courier('alice', 'send', 'Climbers', 'five');
    const again = listen('bob');
    await again.until((l) => l.some((x) => x.includes('five')), 'the missed messages');
    await new Promise((r) => setTimeout(r, 500));
    await again.stop();
    const messages = again.lines().filter((l) => l.includes(': '));
    expect(messages).toEqual(['[@alice_1] @alice_1: four', '[Climbers] @alice_1: five']);

    // Removing and leaving.
    expect((await courier('bob', 'group', 'remove', 'Climbers', '@alice_1')).err).toContain(
      'GROUP_NOT_OWNER',
    );
    expect((await courier('bob', 'group', 'leave', 'Climbers')).code).toBe(0);
    expect((await courier('alice', 'group', 'show', 'Climbers')).out).toMatch(/1 members/);

    // A second device of Alice's account.
    await courier('alice-laptop', 'login', ALICE, '--request-only');
    const login = await courier('alice-laptop', 'login', ALICE, '--code', codeFromOutbox(outbox, ALICE));
    expect(login.out).toContain('Logged in');
    expect((await courier('alice', 'devices')).out.trim().split('\n')).toHaveLength(2);
  }, 180_000);
});
