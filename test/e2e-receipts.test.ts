import type { MessageStatus, SecureClientEvents, StoredMessage } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { type SecureDevice, secureDevice } from './support/secure.ts';
import { until } from './support/until.ts';

type StatusEvent = SecureClientEvents['status'];

/** Every status event of a device's client. */
function statuses(device: SecureDevice): StatusEvent[] {
  const seen: StatusEvent[] = [];
  device.client.on('status', (s) => seen.push(s));
  return seen;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Two real SecureClients (and a second device) through a real in-process server. */
describe('unsupported content and receipts, end to end', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('a message of a type this client does not know arrives as unsupported, kept in the history', async () => {
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const bob = await secureDevice(server, await server.register(nextPhone()));
    const chat = await alice.client.openDirect(bob.user.accountId);
    await bob.joined(chat.groupId);
    // A newer client's poll, and a text from the future's format version.
    await alice.client.dangerouslySendRawContent(chat.groupId, json({ v: 1, type: 'poll', question: '?' }));
    await alice.client.dangerouslySendRawContent(
      chat.groupId,
      json({ v: 2, type: 'text', text: 'v2', sentAtMs: 1 }),
    );
    await alice.client.sendText(chat.groupId, 'plain text after');
    const got = await bob.waitFor(chat.groupId, 3);
    expect(got.map((m) => m.unsupported ?? m.text)).toEqual([
      { type: 'poll', v: 1 },
      { type: 'text', v: 2 },
      'plain text after',
    ]);
    expect(bob.undecryptable).toEqual([]);
    const page = await bob.client.history(chat.groupId, { limit: 10 });
    expect(page.messages.filter((m) => !m.roster).map((m) => m.unsupported?.type ?? m.text)).toEqual([
      'plain text after',
      'text',
      'poll',
    ]);
    // Unsupported messages are messages: they count as unread.
    expect(await bob.client.unreadCount(chat.groupId)).toBe(3);
    await Promise.all([alice.client.stop(), bob.client.stop()]);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });

  it('delivered and read receipts move the sender’s status; a read on one device clears the unread count on the other', async () => {
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const bobUser = await server.register(nextPhone());
    const bob = await secureDevice(server, bobUser);
    const aliceStatus = statuses(alice);
    const bobStatus = statuses(bob);
    const chat = await alice.client.openDirect(bob.user.accountId);
    await bob.joined(chat.groupId);
    const bob2 = await secureDevice(server, await server.login(bobUser.phone));
    await bob2.joined(chat.groupId);
    const unreadOn2: number[] = [];
    bob2.client.on('unread', (u) => unreadOn2.push(u.count));

    const sent = [];
    for (const text of ['one', 'two', 'three']) sent.push(await alice.client.sendText(chat.groupId, text));
    const last = sent.at(-1)!.seq;
    await bob.waitFor(chat.groupId, 3);
    await bob2.waitFor(chat.groupId, 3);
    expect(await bob2.client.unreadCount(chat.groupId)).toBe(3);

    // Delivered: one receipt may cover several messages.
    await until(
      () => aliceStatus.some((s) => s.status === 'delivered' && s.upToSeq >= last),
      'delivered',
      15_000,
    );
    const statusOf = async (): Promise<(MessageStatus | undefined)[]> =>
      (await alice.client.history(chat.groupId, { limit: 10 })).messages
        .filter((m) => m.outgoing)
        .map((m) => m.status);
    expect(await statusOf()).toEqual(['delivered', 'delivered', 'delivered']);

    // Read on bob's first device: alice sees read; bob's second device's unread count drops to 0.
    await bob.client.markRead(chat.groupId, last);
    expect(await bob.client.unreadCount(chat.groupId)).toBe(0);
    await until(() => aliceStatus.some((s) => s.status === 'read' && s.upToSeq >= last), 'read', 15_000);
    expect(await statusOf()).toEqual(['read', 'read', 'read']);
    await until(async () => (await bob2.client.unreadCount(chat.groupId)) === 0, 'unread 0 on bob2', 15_000);
    expect(unreadOn2.at(-1)).toBe(0);

    // No receipt answers a receipt: alice owes nothing, so her next entry is the sentinel, and bob
    // (who sent no message) never hears a status.
    await alice.client.flushReceipts();
    await alice.client.sendText(chat.groupId, 'sentinel');
    await bob.waitFor(chat.groupId, 4);
    expect(bobStatus).toEqual([]);
    // Receipts are not messages: nobody's history holds one.
    const everything = [
      ...(await alice.client.messages(chat.groupId)),
      ...(await bob.client.messages(chat.groupId)),
    ];
    expect(everything.filter((m) => !m.roster).every((m: StoredMessage) => m.text.length > 0)).toBe(true);
    await Promise.all([alice, bob, bob2].map((d) => d.client.stop()));
    expect([...alice.problems, ...bob.problems, ...bob2.problems]).toEqual([]);
  });

  it('read receipts off (both ways) and chats that allow no receipts: no read, or nothing at all, goes out; the person’s own devices still share reads', async () => {
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const carolUser = await server.register(nextPhone());
    const carol = await secureDevice(server, carolUser);
    const carol2 = await secureDevice(server, await server.login(carolUser.phone));
    const aliceStatus = statuses(alice);
    const chat = await alice.client.openDirect(carol.user.accountId);
    await carol.joined(chat.groupId);
    await carol2.joined(chat.groupId);

    // Carol turns read receipts off: her read goes nowhere (delivered still does).
    carol.client.setReadReceipts(false);
    const first = await alice.client.sendText(chat.groupId, 'are you there?');
    await carol.waitFor(chat.groupId, 1);
    await carol2.waitFor(chat.groupId, 1);
    expect(await carol2.client.unreadCount(chat.groupId)).toBe(1);
    await carol.client.markRead(chat.groupId, first.seq);
    expect(await carol.client.unreadCount(chat.groupId)).toBe(0);
    await carol.client.flushReceipts();
    // Her other device hears of the read (from her mailbox: nothing went into the chat).
    await until(
      async () => (await carol2.client.unreadCount(chat.groupId)) === 0,
      'unread 0 on carol2',
      15_000,
    );
    await carol.client.sendText(chat.groupId, 'after my read');
    await alice.waitFor(chat.groupId, 1);
    expect(aliceStatus.filter((s) => s.status === 'read')).toEqual([]);
    expect(aliceStatus.some((s) => s.status === 'delivered' && s.upToSeq === first.seq)).toBe(true);

    // Alice turns them off too: carol's read (on again) shows as delivered only.
    alice.client.setReadReceipts(false);
    carol.client.setReadReceipts(true);
    const second = await alice.client.sendText(chat.groupId, 'and now?');
    await carol.waitFor(chat.groupId, 2);
    await carol.client.markRead(chat.groupId, second.seq);
    await carol.client.flushReceipts();
    await carol.client.sendText(chat.groupId, 'read it');
    await alice.waitFor(chat.groupId, 2);
    expect(aliceStatus.filter((s) => s.status === 'read')).toEqual([]);
    const page = await alice.client.history(chat.groupId, { limit: 10 });
    expect(page.messages.filter((m) => m.outgoing).map((m) => m.status)).toEqual(['delivered', 'delivered']);
    await Promise.all([alice.client.stop(), carol.client.stop(), carol2.client.stop()]);
    expect([...alice.problems, ...carol.problems, ...carol2.problems]).toEqual([]);
  });

  it('a group over the device limit: receipts are off and the client says so; a read still clears the unread count on the person’s other device, and nobody else hears of it', async () => {
    // A limit of 3 devices: bob, carol and alice's two devices are 4.
    const client = { receiptMaxDevices: 3 };
    const aliceUser = await server.register(nextPhone());
    const alice = await secureDevice(server, aliceUser, { client });
    const alice2 = await secureDevice(server, await server.login(aliceUser.phone), { client });
    const bob = await secureDevice(server, await server.register(nextPhone()), { client });
    const carol = await secureDevice(server, await server.register(nextPhone()), { client });
    const devices = [alice, alice2, bob, carol];
    const bobStatus = statuses(bob);
    const aliceStatus = statuses(alice);
    const chat = await bob.client.createGroup('crowd', [aliceUser.accountId, carol.user.accountId]);
    for (const d of [alice, alice2, carol]) await d.joined(chat.groupId);
    const epoch = (await bob.client.epoch(chat.groupId))!;
    for (const d of devices) await d.atEpoch(chat.groupId, epoch);
    for (const d of devices)
      expect(await d.client.receiptsInChat(chat.groupId)).toEqual({
        on: false,
        reason: 'large_group',
        devices: 4,
        maxDevices: 3,
      });
    // A direct chat stays under the limit: receipts on there.
    const direct = await bob.client.openDirect(carol.user.accountId);
    await carol.joined(direct.groupId);
    expect(await carol.client.receiptsInChat(direct.groupId)).toMatchObject({ on: true, devices: 2 });

    const one = await bob.client.sendText(chat.groupId, 'one');
    const two = await bob.client.sendText(chat.groupId, 'two');
    for (const d of [alice, alice2, carol]) await d.waitFor(chat.groupId, 2);
    expect(await alice2.client.unreadCount(chat.groupId)).toBe(2);
    const unreadOn2: number[] = [];
    alice2.client.on('unread', (u) => u.groupId === chat.groupId && unreadOn2.push(u.count));

    // Alice reads on her first device: her second one's unread count drops, by her mailbox only.
    await alice.client.markRead(chat.groupId, one.seq);
    await alice.client.flushReceipts();
    await until(
      async () => (await alice2.client.unreadCount(chat.groupId)) === 1,
      'unread 1 on alice2',
      15_000,
    );
    await alice.client.markRead(chat.groupId, two.seq);
    await carol.client.markRead(chat.groupId, two.seq);
    await Promise.all(devices.map((d) => d.client.flushReceipts()));
    await until(
      async () => (await alice2.client.unreadCount(chat.groupId)) === 0,
      'unread 0 on alice2',
      15_000,
    );
    expect(unreadOn2.at(-1)).toBe(0);
    expect(await alice.client.unreadCount(chat.groupId)).toBe(0);

    // Nothing went into the chat: after a sentinel from each reader (in log order after anything they
    // flushed), bob's sent messages are still only stored, and alice heard nothing of carol's read.
    await alice.client.sendText(chat.groupId, 'sentinel a');
    await carol.client.sendText(chat.groupId, 'sentinel c');
    await bob.waitFor(chat.groupId, 2);
    await alice.waitFor(chat.groupId, 3);
    expect(bobStatus.filter((s) => s.status !== 'stored')).toEqual([]);
    expect(aliceStatus.filter((s) => s.status !== 'stored')).toEqual([]);
    const sent = (await bob.client.history(chat.groupId, { limit: 10 })).messages.filter((m) => m.outgoing);
    expect(sent.map((m) => m.status)).toEqual(['stored', 'stored']);
    await Promise.all(devices.map((d) => d.client.stop()));
    expect(devices.flatMap((d) => [...d.problems, ...d.undecryptable.map((u) => u.code)])).toEqual([]);
  });

  it('a chat whose receipts are not allowed (a message request) gets none', async () => {
    const alice = await secureDevice(server, await server.register(nextPhone()));
    const daveUser = await server.register(nextPhone());
    const aliceStatus = statuses(alice);
    const chat = await alice.client.openDirect(daveUser.accountId);
    const { SecureClient, MemoryMlsStore } = await import('@courier/sdk');
    const dave = new SecureClient({
      url: server.url,
      token: daveUser.token,
      accountId: daveUser.accountId,
      deviceId: daveUser.deviceId,
      store: new MemoryMlsStore(),
      keyPackageStock: 4,
      receiptsAllowed: (groupId) => groupId !== chat.groupId,
    });
    const daveGot: StoredMessage[] = [];
    dave.on('message', (m) => daveGot.push(m));
    await dave.start();
    await until(async () => (await dave.epoch(chat.groupId)) !== undefined, 'dave joined', 15_000);
    const hello = await alice.client.sendText(chat.groupId, 'hello stranger');
    await until(() => daveGot.length === 1, 'dave got it', 15_000);
    await dave.markRead(chat.groupId, hello.seq);
    await dave.flushReceipts();
    await dave.sendText(chat.groupId, 'who is this?');
    await alice.waitFor(chat.groupId, 1);
    expect(aliceStatus.filter((s) => s.status !== 'stored')).toEqual([]);
    await Promise.all([alice.client.stop(), dave.stop()]);
  });
});
