import { CourierHttp, type SecureClientEvents } from '@courier/sdk';
import { describe, expect, it } from 'vitest';
import { cliServer } from './support/cli-process.ts';
import { nextPhone, type TestUser } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { codeFromOutbox } from './support/server-process.ts';
import { until } from './support/until.ts';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/**
 * The CLI with a person on the SDK: a message of a type the CLI does not know shows as unsupported;
 * delivered and read marks show in `listen` and in `history`; `chat` reads what it shows;
 * `history` pages through what the device keeps.
 */
describe('courier: unsupported messages, receipts and history', { timeout: 180_000 }, () => {
  const { start, courier, url, outbox } = cliServer('cli-receipts');

  it('shows unsupported messages and receipts, reads what chat shows, pages history', async () => {
    // Bob on the CLI, Alice on the SDK.
    const bobPhone = nextPhone();
    expect((await courier('bob', 'register', bobPhone, '--request-only')).code).toBe(0);
    const code = codeFromOutbox(outbox, bobPhone);
    expect((await courier('bob', 'register', bobPhone, '--code', code, '--accept-policy')).code).toBe(0);
    const bobId = (JSON.parse((await courier('bob', '--json', 'whoami')).out) as { accountId: string })
      .accountId;
    const alicePhone = nextPhone();
    const http = new CourierHttp(url());
    await http.requestCode(alicePhone, 'register');
    const { version } = await http.privacyPolicy();
    const reply = await http.verifyCode(
      alicePhone,
      codeFromOutbox(outbox, alicePhone),
      'register',
      'sdk',
      version,
    );
    http.setToken(reply.token);
    const aliceUser: TestUser = { phone: alicePhone, ...reply, http };
    const alice = await secureDevice({ url: url() }, aliceUser);
    const statuses: SecureClientEvents['status'][] = [];
    alice.client.on('status', (s) => statuses.push(s));
    const chat = await alice.client.openDirect(bobId);

    const listen = start('bob', ['listen']);
    await until(() => listen.err().includes('(connected)'), 'bob listening', 30_000);
    const hello = await alice.client.sendText(chat.groupId, 'hello bob');
    await alice.client.dangerouslySendRawContent(chat.groupId, json({ v: 1, type: 'poll', question: '?' }));
    await until(() => listen.out().includes('unsupported message'), 'the unsupported line', 30_000);
    const lines = listen
      .out()
      .split('\n')
      .filter((l) => l.startsWith('['));
    expect(lines.some((l) => l.endsWith(': hello bob'))).toBe(true);
    expect(lines.some((l) => l.endsWith(': (unsupported message: poll v1; update Courier to see it)'))).toBe(
      true,
    );
    expect(listen.err()).not.toContain('could not be decrypted');
    // Bob's device says delivered by itself.
    await until(
      () => statuses.some((s) => s.status === 'delivered' && s.upToSeq >= hello.seq),
      'delivered',
      30_000,
    );

    // Bob answers; Alice reads it: Bob's listen shows the marks.
    const sent = await courier('bob', 'send', chat.groupId, 'hi alice');
    expect(sent.code).toBe(0);
    const [answer] = await alice.waitFor(chat.groupId, 1, 30_000);
    await alice.client.markRead(chat.groupId, answer!.seq);
    await until(() => /✓✓ read by .* up to #\d+/.test(listen.out()), 'the read mark in listen', 30_000);
    // One receipt answered both: read implies delivered, so no delivered mark was needed.
    listen.child.kill('SIGINT');
    expect(await listen.exit).toBe(0);

    // History from the device: newest page first, oldest first within it, sent messages marked.
    const newest = await courier('bob', 'history', chat.groupId, '--limit', '2');
    expect(newest.code).toBe(0);
    const newestLines = newest.out.trim().split('\n');
    expect(newestLines).toHaveLength(2);
    expect(newestLines[0]).toMatch(/: \(unsupported message: poll v1; update Courier to see it\)$/);
    expect(newestLines[1]).toMatch(/: hi alice {2}✓✓ read$/);
    const before = newest.err.match(/--before (\d+)/)?.[1];
    expect(before).toBeDefined();
    const older = await courier(
      'bob',
      '--json',
      'history',
      chat.groupId,
      '--before',
      before!,
      '--limit',
      '50',
    );
    const page = JSON.parse(older.out) as {
      messages: { text: string; kind: string }[];
      before: number | null;
    };
    expect(page.before).toBeNull();
    expect(page.messages.filter((m) => m.kind === 'message').map((m) => m.text)).toEqual(['hello bob']);
    const bad = await courier('bob', 'history', chat.groupId, '--limit', '0');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('error REQ_INVALID');

    // An interactive chat reads what it shows: Alice sees "read" for a message Bob got there.
    const interactive = start('bob', ['chat', chat.groupId]);
    const later = await alice.client.sendText(chat.groupId, 'are you reading?');
    await until(() => interactive.out().includes('are you reading?'), 'the line in chat', 30_000);
    interactive.child.stdin?.end();
    expect(await interactive.exit).toBe(0);
    await until(
      () => statuses.some((s) => s.status === 'read' && s.upToSeq >= later.seq),
      'read by chat',
      30_000,
    );

    // Read receipts off on Bob's device: his next chat reads without telling.
    expect((await courier('bob', 'privacy', 'set', 'read-receipts', 'off')).out).toContain('now off');
    expect((await courier('bob', 'privacy', 'show')).out).toMatch(/read-receipts\s+off/);
    const quiet = await alice.client.sendText(chat.groupId, 'and now?');
    const again = start('bob', ['chat', chat.groupId]);
    await until(() => again.out().includes('and now?'), 'the line in the second chat', 30_000);
    again.child.stdin?.end('seen\n');
    expect(await again.exit).toBe(0);
    await alice.waitFor(chat.groupId, 2, 30_000);
    expect(statuses.some((s) => s.status === 'read' && s.upToSeq >= quiet.seq)).toBe(false);
    await alice.client.stop();
    expect(alice.problems).toEqual([]);
  });
});
