import { DELETE_FOR_EVERYONE_NOTICE, type StoredMessage } from '@courier/sdk';
import { CourierError } from '@courier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { type SecureDevice, secureDevice } from './support/secure.ts';
import { until } from './support/until.ts';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** The message as a device keeps it now (its actions applied). */
const seen = (device: SecureDevice, groupId: string, m: StoredMessage) =>
  device.client.findMessage(groupId, m);

/** Three real SecureClients through a real in-process server: message actions, end to end. */
describe('message actions, end to end', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('reply, edit, delete for everyone, reactions and forward are seen by the others; a non-sender’s edit or delete is ignored', async () => {
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const bob = await secureDevice(server, await server.register(nextPhone()));
    const carol = await secureDevice(server, await server.register(nextPhone()));
    const everyone = [alice, bob, carol];
    const chat = await alice.client.createGroup('actions', [bob.user.accountId, carol.user.accountId]);
    const g = chat.groupId;
    await Promise.all([bob.joined(g), carol.joined(g)]);

    await alice.client.sendText(g, 'lunch at noon?');
    await alice.client.sendText(g, 'oops, wrong chat');
    const [hello, oops] = await bob.waitFor(g, 2);
    await carol.waitFor(g, 2);

    // Bob replies, quoting Alice's first message.
    await bob.client.reply(g, hello!, 'yes!');
    for (const d of [alice, carol]) {
      const reply = (await d.waitFor(g, d === alice ? 1 : 3)).at(-1);
      expect(reply).toMatchObject({
        text: 'yes!',
        senderAccountId: bob.user.accountId,
        replyTo: {
          senderAccountId: alice.user.accountId,
          senderDeviceId: hello!.senderDeviceId,
          clientMsgId: hello!.clientMsgId,
          quote: 'lunch at noon?',
        },
      });
    }

    // Alice edits her message: everyone sees the new text, marked edited, the earlier text kept.
    await alice.client.edit(g, hello!, 'lunch at one?');
    for (const d of everyone)
      await until(async () => (await seen(d, g, hello!)).text === 'lunch at one?', 'the edit', 15_000);
    for (const d of everyone)
      expect((await seen(d, g, hello!)).edited?.earlier.map((e) => e.text)).toEqual(['lunch at noon?']);

    // Reactions: Bob and Carol add 👍, Carol takes hers back and adds 🎉.
    await bob.client.react(g, hello!, '👍');
    await carol.client.react(g, hello!, '👍');
    await carol.client.unreact(g, hello!, '👍');
    await carol.client.react(g, hello!, '🎉');
    const expected = [
      { emoji: '👍', by: [bob.user.accountId] },
      { emoji: '🎉', by: [carol.user.accountId] },
    ];
    for (const d of everyone)
      await until(
        async () => JSON.stringify((await seen(d, g, hello!)).reactions) === JSON.stringify(expected),
        'reactions',
        15_000,
      );

    // Bob may not edit or delete Alice's message: his client refuses, and a forged one is ignored.
    await expect(bob.client.edit(g, hello!, 'forged')).rejects.toMatchObject({ code: 'MSG_NOT_SENDER' });
    await expect(bob.client.deleteForEveryone(g, hello!)).rejects.toBeInstanceOf(CourierError);
    const target = {
      senderAccountId: hello!.senderAccountId,
      senderDeviceId: hello!.senderDeviceId,
      clientMsgId: hello!.clientMsgId,
    };
    await bob.client.dangerouslySendRawContent(
      g,
      json({ v: 1, type: 'edit', target, text: 'forged', sentAtMs: 1 }),
    );
    await bob.client.dangerouslySendRawContent(g, json({ v: 1, type: 'delete', target, sentAtMs: 1 }));
    // Alice deletes her second message for everyone, and is told plainly what that cannot promise.
    const { notice } = await alice.client.deleteForEveryone(g, oops!);
    expect(notice).toBe(DELETE_FOR_EVERYONE_NOTICE);
    expect(notice).toMatch(/cannot be guaranteed/);
    for (const d of everyone)
      await until(async () => (await seen(d, g, oops!)).deleted !== undefined, 'the deletion', 15_000);
    // The deletion came after the forged edit and delete: those were handled, and changed nothing.
    for (const d of everyone) {
      const now = await seen(d, g, hello!);
      expect(now.text).toBe('lunch at one?');
      expect(now.deleted).toBeUndefined();
      const gone = await seen(d, g, oops!);
      expect(gone.text).toBe('');
      expect(JSON.stringify(gone)).not.toContain('wrong chat');
    }
    // A deleted message takes no edit, and history shows it in its place as deleted.
    await expect(alice.client.edit(g, oops!, 'again')).rejects.toMatchObject({ code: 'MSG_NOT_ACTIONABLE' });
    const page = await carol.client.history(g, { limit: 10 });
    const shown = page.messages.filter((m) => !m.roster).reverse();
    expect(
      shown.map((m) => [m.text, m.edited !== undefined, m.deleted !== undefined, m.replyTo?.quote]),
    ).toEqual([
      ['lunch at one?', true, false, undefined],
      ['', false, true, undefined],
      ['yes!', false, false, 'lunch at noon?'],
    ]);

    // Carol forwards Bob's reply to a direct chat with Alice: encrypted again there, marked forwarded.
    const direct = await carol.client.openDirect(alice.user.accountId);
    await alice.joined(direct.groupId);
    const reply = (await carol.waitFor(g, 3))[2]!;
    await carol.client.forward(g, reply, direct.groupId);
    const [forwarded] = await alice.waitFor(direct.groupId, 1);
    expect(forwarded).toMatchObject({
      text: 'yes!',
      senderAccountId: carol.user.accountId,
      forwarded: { accountId: bob.user.accountId, sentAtMs: reply.sentAtMs },
    });
    await expect(bob.client.findMessage(g, 'no-such-id')).rejects.toMatchObject({
      code: 'MSG_UNKNOWN_MESSAGE',
    });

    // Actions are not messages: nothing else arrived, nothing was undecryptable, no problem.
    expect(bob.received.filter((m) => m.groupId === g)).toHaveLength(2);
    await Promise.all(everyone.map((d) => d.client.stop()));
    for (const d of everyone) {
      expect(d.undecryptable).toEqual([]);
      expect(d.problems).toEqual([]);
    }
  });
});
