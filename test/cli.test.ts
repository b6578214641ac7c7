import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliServer } from './support/cli-process.ts';
import { codeFromOutbox, freePort } from './support/server-process.ts';

const ALICE = '+441234567890';
const BOB = '+12025550143';
const CAROL = '+442079460958';
const DAVE = '+442079460959';

/**
 * Two people at two terminals: each has a profile folder (`--home`) and runs `courier` as a real
 * process against a real `courier-server serve` process.
 */
// Each step runs several `courier` processes one after another; on a shared, loaded machine a step
// can take longer than the default minute.
describe('the courier CLI against a real server', { timeout: 180_000 }, () => {
  const { start, courier, outbox, url, dir } = cliServer('cli');
  /** The direct chat of Alice and Bob, opened in one step and listed in a later one. */
  let dmId: string | undefined;

  /** Registers or logs in the way a person does: the code arrives by SMS and is typed at the prompt. */
  async function signInTyping(who: string, intent: 'register' | 'login', phone: string) {
    const run = start(who, [intent, phone, '--device-name', `${who}'s device`]);
    await run.until('the code prompt', (r) => r.err().includes(`Code sent to ${phone}: `));
    run.child.stdin?.write(`${codeFromOutbox(outbox, phone)}\n`);
    if (intent === 'register') {
      await run.until('the policy question', (r) => r.err().includes('Do you accept it? [y/N]'));
      run.child.stdin?.write('y\n');
    }
    run.child.stdin?.end();
    expect(await run.exit).toBe(0);
    return run.out();
  }

  it('signs two people up: a wrong code is refused, a typed or given code works', async () => {
    // A wrong code is refused with its catalog code and a non-zero exit, and stores no session.
    expect((await courier('alice', 'register', ALICE, '--request-only')).out).toContain(
      `Code sent to ${ALICE}`,
    );
    const real = codeFromOutbox(outbox, ALICE);
    const wrongCode = String((Number(real) + 1) % 10 ** real.length).padStart(real.length, '0');
    const wrong = await courier('alice', 'register', ALICE, '--code', wrongCode, '--accept-policy');
    expect(wrong.code).not.toBe(0);
    expect(wrong.err.trim()).toBe(
      'error AUTH_CODE_INVALID: The verification code is wrong. The code sent stays valid: give it again with --code (no new SMS is sent).',
    );
    expect((await courier('alice', 'whoami')).err).toContain('error AUTH_REQUIRED');

    // Alice mistypes the code she got by SMS at the prompt, is asked again and types it right: one
    // SMS only. Bob gives his with --code in a second run.
    const codesTo = (phone: string) =>
      readFileSync(outbox, 'utf8')
        .trim()
        .split('\n')
        .filter((line) => (JSON.parse(line) as { to: string }).to === phone).length;
    const typing = start('alice', ['register', ALICE, '--device-name', "alice's device"]);
    await typing.until('the code prompt', (r) => r.err().includes(`Code sent to ${ALICE}: `));
    const sent = codeFromOutbox(outbox, ALICE);
    const codesSent = codesTo(ALICE);
    const mistyped = String((Number(sent) + 1) % 10 ** sent.length).padStart(sent.length, '0');
    typing.child.stdin?.write(`${mistyped}\n`);
    await typing.until('the policy question', (r) => r.err().includes('Do you accept it? [y/N]'));
    typing.child.stdin?.write('y\n');
    await typing.until('the second prompt', (r) =>
      r.err().includes(`Type the code sent to ${ALICE} again: `),
    );
    expect(typing.err()).toContain('That code is not right.');
    typing.child.stdin?.write(`${sent}\n`);
    typing.child.stdin?.end();
    expect(await typing.exit).toBe(0);
    expect(typing.out()).toContain(`Registered ${ALICE}`);
    expect(codesTo(ALICE)).toBe(codesSent);
    expect((await courier('bob', 'register', BOB, '--request-only')).code).toBe(0);
    const bobUp = await courier(
      'bob',
      'register',
      BOB,
      '--code',
      codeFromOutbox(outbox, BOB),
      '--accept-policy',
    );
    expect(bobUp.out).toContain(`Registered ${BOB}`);
    // The session is private to its owner, and the profile remembers the server.
    expect(statSync(join(dir, 'bob', 'session.json')).mode & 0o777).toBe(0o600);
    const whoami = await (async () => {
      const run = start('bob', ['--json', 'whoami'], { server: false });
      run.child.stdin?.end();
      expect(await run.exit).toBe(0);
      return JSON.parse(run.out()) as { phone: string; server: string };
    })();
    expect(whoami).toMatchObject({ phone: BOB, server: url() });
  });

  it('sets usernames and names, finds people, opens the direct chat', async () => {
    expect((await courier('alice', 'username', 'set', 'alice_1')).out).toContain('@alice_1');
    expect((await courier('bob', 'username', 'set', 'bob_22')).out).toContain('@bob_22');
    expect((await courier('bob', 'profile', 'name', 'Bob', 'Builder')).out).toContain('"Bob Builder"');
    expect((await courier('bob', 'lookup', '@alice_1')).out).toContain('@alice_1');
    expect((await courier('alice', 'lookup', BOB)).out).toContain('@bob_22 Bob Builder');
    expect((await courier('alice', 'lookup', '@nobody_here')).err).toContain('error ACCOUNT_NOT_FOUND');

    const dm = await courier('bob', 'dm', '@alice_1');
    dmId = dm.out.match(/Direct chat with @alice_1: (g_\S+)/)?.[1];
    expect(dmId).toBeDefined();
    expect((await courier('alice', 'dm', BOB)).out).toContain(dmId);
  });

  it('creates groups, changes roles, removes a member', async () => {
    expect((await courier('alice', 'group', 'create', 'Climbers', '@bob_22')).out).toContain(
      'Created "Climbers"',
    );
    expect((await courier('bob', 'group', 'add', 'Climbers', '@alice_1')).err).toContain(
      'error GROUP_NOT_ADMIN',
    );
    expect((await courier('alice', 'group', 'promote', 'Climbers', '@bob_22')).code).toBe(0);
    const shown = await courier('bob', 'group', 'show', 'climbers');
    expect(shown.out).toMatch(/owner\s+@alice_1/);
    expect(shown.out).toMatch(/admin\s+@bob_22/);
    expect((await courier('alice', 'group', 'demote', 'Climbers', '@bob_22')).code).toBe(0);
    expect((await courier('bob', 'group', 'show', 'Climbers')).out).toMatch(/member\s+@bob_22/);
    expect((await courier('alice', 'group', 'create', 'Temp', BOB)).code).toBe(0);
    expect((await courier('alice', 'group', 'remove', 'Temp', '@bob_22')).out).toContain('Removed @bob_22');
    const chats = (await courier('bob', 'chats')).out;
    expect(chats).toMatch(new RegExp(`${dmId}\\s+direct\\s+@alice_1`));
    expect(chats).toMatch(/group \(2\)\s+Climbers/);
    expect(chats).not.toContain('Temp');
  });

  it('delivers live, and after a restart exactly what was missed, in order, once', async () => {
    // Bob listens; a second listener on the same device is refused rather than fighting it.
    const bobListens = start('bob', ['listen']);
    await bobListens.until('the roster history', (r) =>
      r.entries().some((l) => l.includes('made @bob_22 an admin')),
    );
    expect(bobListens.entries()).toContain('[Climbers] * @alice_1 created "Climbers" with @bob_22');
    const second = await courier('bob', 'listen');
    expect(second.code).not.toBe(0);
    expect(second.err).toContain('already connected as this device');

    for (const text of ['one', 'two', 'three']) {
      expect((await courier('alice', 'send', '@bob_22', text)).out).toMatch(/^Sent to @bob_22 \(#\d+\)\.$/m);
    }
    await bobListens.until('three live messages', (r) => r.entries().some((l) => l.endsWith(': three')));
    expect(bobListens.entries().filter((l) => l.startsWith('[@alice_1] @alice_1:'))).toEqual([
      '[@alice_1] @alice_1: one',
      '[@alice_1] @alice_1: two',
      '[@alice_1] @alice_1: three',
    ]);
    bobListens.child.kill('SIGINT');
    expect(await bobListens.exit).toBe(0);

    // Bob is away: two more messages, then he comes back and gets exactly those, in order, once.
    await courier('alice', 'send', '@bob_22', 'four');
    await courier('alice', 'send', 'Climbers', 'five');
    const again = start('bob', ['listen']);
    await again.until('the missed messages', (r) => r.entries().some((l) => l.endsWith(': five')));
    await new Promise((r) => setTimeout(r, 700)); // anything else would show up by now
    again.child.kill('SIGINT');
    expect(await again.exit).toBe(0);
    expect(again.entries()).toEqual(['[@alice_1] @alice_1: four', '[Climbers] @alice_1: five']);
  });

  it('sends what is typed in an interactive chat', async () => {
    // An interactive chat: Bob types two lines; Alice, listening to that group only, sees them.
    const aliceListens = start('alice', ['listen', 'Climbers']);
    await aliceListens.until('her listener', (r) => r.err().includes('(connected)'));
    const chat = start('bob', ['chat', 'Climbers']);
    chat.child.stdin?.end('hello from the chat\nand a second line\n');
    expect(await chat.exit).toBe(0);
    await aliceListens.until('the chat lines', (r) => r.entries().some((l) => l.endsWith('a second line')));
    aliceListens.child.kill('SIGINT');
    expect(await aliceListens.exit).toBe(0);
    expect(aliceListens.entries().filter((l) => l.includes('@bob_22:'))).toEqual([
      '[Climbers] @bob_22: hello from the chat',
      '[Climbers] @bob_22: and a second line',
    ]);
  });

  it('keeps a message the server did not accept and sends it next time', async () => {
    // The server takes HTTP calls but no connection: `send` gives up, keeps the message, and the
    // next `send` delivers both, in order.
    const http = createServer((req, res) => {
      const target = new URL(req.url ?? '/', url());
      const forward = request(target, { method: req.method, headers: req.headers }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      });
      req.pipe(forward);
    });
    http.on('upgrade', (_req, socket) => socket.destroy());
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const noSockets = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const stuck = start('alice', ['--server', noSockets, 'send', 'Climbers', 'six', '--wait', '1']);
    stuck.child.stdin?.end();
    expect(await stuck.exit).toBe(1);
    expect(stuck.err()).toContain(
      "error SERVER_UNAVAILABLE: The server did not accept the message within 1 s. It stays in this profile's outbox",
    );
    await new Promise<void>((r) => http.close(() => r()));
    expect((await courier('alice', 'send', 'Climbers', 'seven')).code).toBe(0);
    const catchUp = start('bob', ['listen', 'Climbers']);
    await catchUp.until('six and seven', (r) => r.entries().some((l) => l.endsWith(': seven')));
    catchUp.child.kill('SIGINT');
    expect(await catchUp.exit).toBe(0);
    // Messages exactly once, in order; besides them, the delivered/read marks of Bob's own messages.
    expect(catchUp.entries().filter((l) => !/\] ✓/.test(l))).toEqual([
      '[Climbers] @alice_1: six',
      '[Climbers] @alice_1: seven',
    ]);
    const marks = catchUp.entries().filter((l) => /\] ✓/.test(l));
    expect(marks.length).toBeGreaterThan(0);
    for (const mark of marks) expect(mark).toMatch(/^\[Climbers\] ✓✓ delivered by @alice_1 up to #\d+$/);
  });

  it('sends to a person with no chat yet, encrypted as dm does, and keeps a message typed while the server is away', async () => {
    expect(await signInTyping('carol', 'register', CAROL)).toContain(`Registered ${CAROL}`);
    expect((await courier('carol', 'username', 'set', 'carol_3')).code).toBe(0);
    // No chat between Alice and Carol yet: the send makes it, with its encryption group, and goes out.
    const first = await courier('alice', 'send', '@carol_3', 'first words');
    expect(first.err).toBe('');
    expect(first.out).toMatch(/^Sent to @carol_3 \(#\d+\)\.$/m);
    // The server is out of reach: the text is kept, and goes out, first, with the next send.
    const away = start('alice', [
      '--server',
      `http://127.0.0.1:${await freePort()}`,
      'send',
      '@carol_3',
      'while away',
    ]);
    away.child.stdin?.end();
    expect(await away.exit).toBe(1);
    expect(away.err()).toContain('error SERVER_UNAVAILABLE');
    expect(away.err()).toContain("It stays in this profile's outbox");
    expect((await courier('alice', 'send', '@carol_3', 'back again')).code).toBe(0);
    const carol = start('carol', ['listen']);
    await carol.until('three messages', (r) => r.entries().some((l) => l.endsWith(': back again')));
    carol.child.kill('SIGINT');
    expect(await carol.exit).toBe(0);
    expect(carol.entries().filter((l) => l.startsWith('[@alice_1] @alice_1:'))).toEqual([
      '[@alice_1] @alice_1: first words',
      '[@alice_1] @alice_1: while away',
      '[@alice_1] @alice_1: back again',
    ]);
  });

  it("erases the device's decrypted history and the profile when the account is deleted", async () => {
    expect(existsSync(join(dir, 'carol', 'devices'))).toBe(true);
    const gone = await courier('carol', 'delete-account', '--confirm', CAROL);
    expect(gone.err).toBe('');
    expect(gone.out).toContain('Your account is deleted.');
    expect(gone.out).toContain('What stays: messages you sent stay with the people you sent them to');
    expect(existsSync(join(dir, 'carol'))).toBe(false);
  });

  it('leaves a group', async () => {
    // Leaving.
    expect((await courier('bob', 'group', 'remove', 'Climbers', '@alice_1')).err).toContain(
      'error GROUP_NOT_ADMIN',
    );
    expect((await courier('bob', 'group', 'leave', 'Climbers')).out).toContain('You left Climbers');
    expect((await courier('alice', 'group', 'show', 'Climbers')).out).toMatch(/1 members/);
    expect((await courier('bob', 'send', 'Climbers', 'gone')).err).toContain('error GROUP_NOT_FOUND');
  });

  it('lists message requests; accepts, declines, blocks and unblocks; leaves a direct chat', async () => {
    expect(await signInTyping('dave', 'register', DAVE)).toContain(`Registered ${DAVE}`);
    expect((await courier('dave', 'username', 'set', 'dave_4')).code).toBe(0);
    expect((await courier('dave', 'dm', '@alice_1')).code).toBe(0);
    // A stranger's chat is a request: Dave does not see Alice's number until she accepts.
    expect((await courier('dave', 'lookup', '@alice_1')).out).not.toContain(ALICE);
    expect((await courier('alice', 'requests')).out).toMatch(/g_\S+ {2}message request from @dave_4/);
    expect((await courier('alice', 'accept', '@dave_4')).out).toContain('Accepted');
    expect((await courier('dave', 'lookup', '@alice_1')).out).toContain(ALICE);
    expect((await courier('alice', 'requests')).out).toContain('No message requests or invitations.');
    // Leaving the direct chat ends the contact.
    expect((await courier('alice', 'leave', '@dave_4')).out).toContain('You left @dave_4');
    expect((await courier('dave', 'lookup', '@alice_1')).out).not.toContain(ALICE);
    // Dave is no contact now: his group add is an invitation, which Alice declines.
    expect((await courier('dave', 'group', 'create', 'Dave club', '@alice_1')).code).toBe(0);
    expect((await courier('alice', 'requests')).out).toMatch(
      /invitation to "Dave club" \(1 members\) from @dave_4/,
    );
    expect((await courier('alice', 'decline', 'Dave club')).out).toContain('the sender is not told');
    expect((await courier('alice', 'decline', 'Dave club')).err).toContain('error CONSENT_REQUEST_NOT_FOUND');
    expect((await courier('alice', 'block', '@dave_4')).out).toContain('Blocked @dave_4');
    expect((await courier('alice', 'blocks')).out).toContain('@dave_4');
    expect((await courier('alice', 'unblock', '@dave_4')).code).toBe(0);
    expect((await courier('alice', 'blocks')).out).toContain('You have blocked nobody.');
    expect((await courier('alice', 'privacy', 'set', 'group-add', 'nobody')).out).toContain(
      'group-add is now nobody',
    );
    expect((await courier('alice', 'privacy', 'show')).out).toMatch(/group-add\s+nobody/);
  });

  it("adds a second device, refuses to replace a live session, ends a revoked device's listen", async () => {
    // A second device of Alice's account logs in the same way and is one of her devices.
    expect(await signInTyping('alice-laptop', 'login', ALICE)).toContain(`Logged in ${ALICE}`);
    const devices = (await courier('alice-laptop', 'devices')).out.trim().split('\n');
    expect(devices).toHaveLength(2);
    expect(devices.filter((l) => l.startsWith('*'))).toEqual([
      expect.stringContaining("alice-laptop's device"),
    ]);
    expect((await courier('alice-laptop', 'whoami')).out).toContain('@alice_1');
    const over = await courier('alice-laptop', 'register', BOB, '--request-only');
    expect(over.code).not.toBe(0);
    expect(over.err).toContain('is signed in as +441234567890');

    // Signing the laptop out from the phone ends its listener with the reason.
    const laptopListens = start('alice-laptop', ['listen']);
    await laptopListens.until('the laptop listener', (r) => r.err().includes('(connected)'));
    const laptopId = devices.find((l) => l.startsWith('*'))?.split(/\s+/)[1] ?? '';
    expect((await courier('alice', 'devices', 'revoke', laptopId)).code).toBe(0);
    expect(await laptopListens.exit).toBe(1);
    expect(laptopListens.err()).toContain('error AUTH_SESSION_REVOKED');
    expect((await courier('alice-laptop', 'chats')).err).toContain('error AUTH_INVALID_TOKEN');
    const laptopStore = join(dir, 'alice-laptop', 'devices', `${laptopId}.db`);
    expect(existsSync(laptopStore)).toBe(true);
    const loggedOut = await courier('alice-laptop', 'logout');
    expect(loggedOut.code).toBe(0);
    expect(loggedOut.out).toContain('its keys and messages are erased from this machine');
    expect(existsSync(laptopStore)).toBe(false);
    expect((await courier('alice-laptop', 'chats')).err).toContain('error AUTH_REQUIRED');
  });
});
