import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './support/cli-process.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { until } from './support/until.ts';

/**
 * The CLI with a person on the SDK: reply, edit, delete, react and forward from the command line,
 * seen by the other person; listen shows the other person's actions; history shows ids, quotes,
 * "(edited)", "(message deleted)" and reactions.
 */
describe('courier: message actions', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-cli-actions-'));
  let server: TestServer;
  const { start, courier, running } = cliRunner(dir, () => server.url);

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reply, edit, delete, react and forward, both ways', async () => {
    // Bob on the CLI, Alice on the SDK.
    const bobPhone = nextPhone();
    expect((await courier('bob', 'register', bobPhone, '--request-only')).code).toBe(0);
    const code = server.sms.lastCode(bobPhone);
    expect((await courier('bob', 'register', bobPhone, '--code', code, '--accept-policy')).code).toBe(0);
    const bobId = (JSON.parse((await courier('bob', '--json', 'whoami')).out) as { accountId: string })
      .accountId;
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const chat = await alice.client.openDirect(bobId);
    const g = chat.groupId;

    // Bob listens: Alice's message, then her edit and reaction, show as they happen.
    const listen = start('bob', ['listen']);
    await until(() => listen.err().includes('(connected)'), 'bob listening', 30_000);
    const hello = await alice.client.sendText(g, 'lunch at noon?');
    await until(() => listen.out().includes(': lunch at noon?'), 'the message', 30_000);
    const [aliceMessage] = await alice.client
      .history(g, { limit: 5 })
      .then((p) => p.messages.filter((m) => m.text === 'lunch at noon?'));
    await alice.client.edit(g, aliceMessage!, 'lunch at one?');
    await until(
      () => listen.out().includes(`edited #${hello.seq}: lunch at one?  (edited)`),
      'the edit',
      30_000,
    );
    listen.child.kill('SIGINT');
    expect(await listen.exit).toBe(0);

    // History shows the id to act on, and the edited mark.
    const first = await courier('bob', 'history', g);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(new RegExp(`^#${hello.seq} \\[.*\\] .*: lunch at one\\?  \\(edited\\)$`, 'm'));

    // Bob replies to it, reacts to it, and may not edit it.
    const replied = await courier('bob', 'reply', g, `#${hello.seq}`, 'yes,', 'one');
    expect(replied.code).toBe(0);
    expect(replied.out).toContain(`Replied to #${hello.seq}`);
    const [bobReply] = await alice.waitFor(g, 1, 30_000);
    expect(bobReply).toMatchObject({
      text: 'yes, one',
      replyTo: { clientMsgId: aliceMessage!.clientMsgId, quote: 'lunch at one?' },
    });
    expect((await courier('bob', 'react', g, String(hello.seq), '👍')).code).toBe(0);
    await until(
      async () => (await alice.client.findMessage(g, aliceMessage!)).reactions?.[0]?.by[0] === bobId,
      'the reaction at alice',
      30_000,
    );
    const forged = await courier('bob', 'edit', g, `#${hello.seq}`, 'forged');
    expect(forged.code).not.toBe(0);
    expect(forged.err).toContain('MSG_NOT_SENDER');
    const unknown = await courier('bob', 'react', g, '#9999', '👍');
    expect(unknown.err).toContain('MSG_UNKNOWN_MESSAGE');
    const notEmoji = await courier('bob', 'react', g, `#${hello.seq}`, 'ok');
    expect(notEmoji.err).toContain('REQ_INVALID');

    // Bob edits his reply, then deletes it for everyone, and is told what that cannot promise.
    const replySeq = bobReply!.seq;
    expect((await courier('bob', 'edit', g, `#${replySeq}`, 'yes, at one')).code).toBe(0);
    await until(
      async () => (await alice.client.findMessage(g, bobReply!)).edited !== undefined,
      'edit',
      30_000,
    );
    const deleted = await courier('bob', 'delete', g, `#${replySeq}`);
    expect(deleted.code).toBe(0);
    expect(deleted.out).toContain(`Deleted #${replySeq}`);
    expect(deleted.err).toContain('cannot be guaranteed');
    await until(
      async () => (await alice.client.findMessage(g, bobReply!)).deleted !== undefined,
      'delete',
      30_000,
    );
    expect((await alice.client.findMessage(g, bobReply!)).text).toBe('');

    // Bob's listen shows Alice's reaction with the counts; then Bob forwards her message to a group.
    const listening = start('bob', ['listen']);
    await until(() => listening.err().includes('(connected)'), 'bob listening', 30_000);
    await alice.client.react(g, aliceMessage!, '🎉');
    await until(
      () => listening.out().includes(`reacted 🎉 to #${hello.seq}  [👍 1 🎉 1]`),
      'the reaction line',
      30_000,
    );
    listening.child.kill('SIGINT');
    expect(await listening.exit).toBe(0);
    const created = await courier('bob', '--json', 'group', 'create', 'Plans', alice.user.accountId);
    expect(created.code).toBe(0);
    const group = JSON.parse(created.out) as { groupId: string };
    await alice.joined(group.groupId, 30_000);
    const forwarded = await courier('bob', 'forward', g, `#${hello.seq}`, group.groupId);
    expect(forwarded.code).toBe(0);
    const inGroup = await alice.waitFor(group.groupId, 1, 30_000);
    expect(inGroup.at(-1)).toMatchObject({
      text: 'lunch at one?',
      senderAccountId: bobId,
      forwarded: { accountId: alice.user.accountId },
    });

    // History, as text and JSON: quote line, deleted placeholder, reactions.
    const after = await courier('bob', 'history', g);
    const lines = after.out.trim().split('\n');
    expect(lines).toContain(
      `#${hello.seq} ${lines.find((l) => l.includes('lunch at one?'))?.slice(`#${hello.seq} `.length)}`,
    );
    expect(after.out).toMatch(/: lunch at one\? {2}\(edited\) {2}\[👍 1 🎉 1\]$/m);
    expect(after.out).toMatch(new RegExp(`^#${replySeq} \\[.*\\] .*: \\(message deleted\\)`, 'm'));
    const page = JSON.parse((await courier('bob', '--json', 'history', g)).out) as {
      messages: {
        id: string;
        text: string;
        deleted?: unknown;
        reactions?: { emoji: string; by: string[] }[];
      }[];
    };
    const byId = new Map(page.messages.map((m) => [m.id, m]));
    expect(byId.get(`#${hello.seq}`)?.reactions).toEqual([
      { emoji: '👍', by: [bobId] },
      { emoji: '🎉', by: [alice.user.accountId] },
    ]);
    expect(byId.get(`#${replySeq}`)).toMatchObject({ text: '', deleted: {} });
    const groupHistory = await courier('bob', 'history', group.groupId);
    expect(groupHistory.out).toMatch(/: \(forwarded from .*\) lunch at one\?/);
    await alice.client.stop();
    expect(alice.problems).toEqual([]);
  });
});
