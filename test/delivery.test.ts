import { decodeRosterEvent } from '@courier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDevice,
  nextPhone,
  type StorageKind,
  startTestServer,
  type TestServer,
  text,
  untext,
} from './support/harness.ts';

describe.each<StorageKind>(['sqlite', 'postgres'])('delivery over %s', (storage) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ storage });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('delivers a direct chat live, then exactly what a stopped device missed, in order, once', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    expect((await bob.http.openDirect(alice.accountId)).groupId).toBe(chat.groupId);

    const a = await connectDevice(server.url, alice);
    let b = await connectDevice(server.url, bob);
    await a.connection.send(chat.groupId, text('hello bob'));
    expect((await b.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['hello bob']);
    expect(b.messages()[0]?.senderAccountId).toBe(alice.accountId);

    const store = b.store;
    await b.connection.stop();
    for (let i = 0; i < 5; i++) await a.connection.send(chat.groupId, text(`missed ${i}`));
    b = await connectDevice(server.url, bob, { store });
    const got = await b.waitForMessages(5);
    expect(got.map((e) => untext(e.payload))).toEqual([0, 1, 2, 3, 4].map((i) => `missed ${i}`));
    const seqs = got.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    await new Promise((r) => setTimeout(r, 200));
    expect(b.messages()).toHaveLength(5);
    await a.connection.stop();
    await b.connection.stop();
  });

  it('makes a retried send idempotent: the same client message id is stored once', async () => {
    const alice = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await connectDevice(server.url, alice);
    const b = await connectDevice(server.url, bob);
    const first = await a.connection.send(chat.groupId, text('once'), 'fixed-id-1');
    const again = await a.connection.send(chat.groupId, text('once'), 'fixed-id-1');
    expect(again).toMatchObject({ seq: first.seq, duplicate: true });
    await a.connection.send(chat.groupId, text('after'));
    const got = await b.waitForMessages(2);
    expect(got.map((e) => untext(e.payload))).toEqual(['once', 'after']);
    await a.connection.stop();
    await b.connection.stop();
  });

  it('runs a group: create, add, promote, remove, leave, with roster entries and enforced roles', async () => {
    const [owner, m1, m2, m3] = await Promise.all([1, 2, 3, 4].map(() => server.register(nextPhone())));
    const group = await owner!.http.createGroup('Climbers', [m1!.accountId]);
    expect(group.members.map((m) => [m.accountId, m.role])).toEqual([
      [owner!.accountId, 'owner'],
      [m1!.accountId, 'member'],
    ]);
    const d1 = await connectDevice(server.url, m1!);
    await expect(m1!.http.addMembers(group.groupId, [m2!.accountId])).rejects.toMatchObject({
      code: 'GROUP_NOT_ADMIN',
    });
    await owner!.http.setRole(group.groupId, m1!.accountId, 'admin');
    await m1!.http.addMembers(group.groupId, [m2!.accountId, m3!.accountId]);
    const d2 = await connectDevice(server.url, m2!);

    const o = await connectDevice(server.url, owner!);
    await o.connection.send(group.groupId, text('welcome'));
    expect(untext((await d1.waitForMessages(1))[0]!.payload)).toBe('welcome');
    expect(untext((await d2.waitForMessages(1))[0]!.payload)).toBe('welcome');

    await m1!.http.removeMember(group.groupId, m2!.accountId);
    await expect(d2.connection.send(group.groupId, text('still here?'))).rejects.toMatchObject({
      code: 'GROUP_NOT_MEMBER',
    });
    await m3!.http.leave(group.groupId);
    const detail = await owner!.http.group(group.groupId);
    expect(detail.members.map((m) => m.accountId).sort()).toEqual([owner!.accountId, m1!.accountId].sort());
    await expect(m2!.http.group(group.groupId)).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });

    const roster = d1.entries
      .filter((e) => e.kind === 'roster')
      .map((e) => decodeRosterEvent(e.payload).action);
    expect(roster).toEqual(expect.arrayContaining(['role_changed', 'added', 'removed']));
    for (const d of [d1, d2, o]) await d.connection.stop();
  });

  it('refuses to grow a group past its member cap with a typed error', async () => {
    const capped = await startTestServer({ storage, config: { groups: { memberCap: 3 } } });
    try {
      const users = await Promise.all([1, 2, 3, 4].map(() => capped.register(nextPhone())));
      const group = await users[0]!.http.createGroup('Small', [users[1]!.accountId, users[2]!.accountId]);
      await expect(users[0]!.http.addMembers(group.groupId, [users[3]!.accountId])).rejects.toMatchObject({
        code: 'GROUP_MEMBER_CAP_EXCEEDED',
      });
      expect((await users[0]!.http.group(group.groupId)).memberCount).toBe(3);
    } finally {
      await capped.close();
    }
  });

  it('gets a second device of the same account into its groups from the present on', async () => {
    const phone = nextPhone();
    const alice = await server.register(phone);
    const bob = await server.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const b = await connectDevice(server.url, bob);
    await b.connection.send(chat.groupId, text('before the second device'));
    const alice2 = await server.login(phone, 'laptop');
    expect(alice2.accountId).toBe(alice.accountId);
    expect((await alice2.http.devices()).map((d) => d.name).sort()).toEqual(['laptop', 'test']);
    const a2 = await connectDevice(server.url, alice2);
    await b.connection.send(chat.groupId, text('after'));
    expect((await a2.waitForMessages(1)).map((e) => untext(e.payload))).toEqual(['after']);
    await a2.connection.stop();
    await b.connection.stop();
  });
});
