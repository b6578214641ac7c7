import type { GroupDetailView, UserView } from '@courier/protocol';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  text,
  untext,
} from './support/harness.ts';
import { secureDevice } from './support/secure.ts';

/**
 * Consent before contact (issue 12), against a real in-process server with the policy's defaults:
 * phone number and last seen visible to contacts, groups joinable only by contacts' adds.
 */
const strict = { consent: {} };
const DAY = Date.UTC(2026, 0, 1);

/** A chat as its viewer sees it, without what changes by itself (the log position). */
const shape = (chat: GroupDetailView) => ({ ...chat, lastSeq: 0 });

describe('a stranger who opens a chat learns nothing until it is accepted', () => {
  let server: TestServer;
  let alice: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ config: strict });
    alice = await server.register(nextPhone());
    await alice.http.setUsername('alice_consent');
    await server.app.storage.accounts.touchLastSeenDay([alice.accountId], DAY);
  });
  afterAll(async () => {
    await server?.close();
  });

  const seesNothing = async (viewer: TestUser) => {
    for (const query of [
      { username: 'alice_consent' },
      { accountId: alice.accountId },
      { phone: alice.phone },
    ]) {
      const seen = await viewer.http.lookup(query);
      expect(seen.accountId).toBe(alice.accountId);
      expect(seen).not.toHaveProperty('phone');
      expect(seen).not.toHaveProperty('lastSeenDayMs');
    }
  };

  it('opening a direct chat with @username does not make the opener a contact, nor does a decline', async () => {
    const stranger = await server.register(nextPhone());
    await server.app.storage.accounts.touchLastSeenDay([stranger.accountId], DAY);
    const { accountId } = await stranger.http.lookup({ username: 'alice_consent' });
    const opened = await stranger.http.openDirect(accountId);
    await seesNothing(stranger);

    // The request waits for Alice, marked as one; her lookup of the stranger shows nothing either.
    expect(await alice.http.requests()).toEqual([
      {
        type: 'direct',
        groupId: opened.groupId,
        fromAccountId: stranger.accountId,
        createdAtMs: expect.any(Number),
      },
    ]);
    expect((await alice.http.groups()).find((g) => g.groupId === opened.groupId)).toMatchObject({
      request: true,
    });
    expect(await alice.http.lookup({ accountId: stranger.accountId })).not.toHaveProperty('phone');

    // A message (the request's content) changes nothing.
    const device = await connectDevice(server.url, stranger);
    await device.connection.send(opened.groupId, text('hi, remember me?'));
    await seesNothing(stranger);
    const before = shape(await stranger.http.group(opened.groupId));

    await alice.http.declineRequest(opened.groupId);
    await seesNothing(stranger);
    // Silent: the stranger's chat looks as before, their next message is still accepted.
    expect(shape(await stranger.http.group(opened.groupId))).toEqual(before);
    expect((await stranger.http.groups()).map((g) => g.groupId)).toContain(opened.groupId);
    await expect(device.connection.send(opened.groupId, text('hello?'))).resolves.toMatchObject({
      duplicate: false,
    });
    // Opening again finds the same chat, and no new request reaches Alice.
    expect((await stranger.http.openDirect(alice.accountId)).groupId).toBe(opened.groupId);
    expect(await alice.http.requests()).toEqual([]);
    expect((await alice.http.groups()).map((g) => g.groupId)).not.toContain(opened.groupId);
    await expect(alice.http.group(opened.groupId)).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    await device.connection.stop();
  });

  it('after Alice accepts, the opener sees her phone and last seen (her setting allows contacts)', async () => {
    const bob = await server.register(nextPhone());
    const chat = await bob.http.openDirect(alice.accountId);
    await seesNothing(bob);
    const accepted = await alice.http.acceptRequest(chat.groupId);
    expect(accepted).not.toHaveProperty('request');
    const seen: UserView = await bob.http.lookup({ accountId: alice.accountId });
    expect(seen.phone).toBe(alice.phone);
    expect(seen.lastSeenDayMs).toBe(DAY);
    expect((await alice.http.lookup({ accountId: bob.accountId })).phone).toBe(bob.phone);
    expect(await alice.http.requests()).toEqual([]);

    // "nobody" still wins over contacts.
    await alice.http.updatePrivacySettings({ phoneVisibility: 'nobody' });
    expect(await bob.http.lookup({ accountId: alice.accountId })).not.toHaveProperty('phone');
    await alice.http.updatePrivacySettings({ phoneVisibility: 'contacts' });

    // Either person may leave a direct chat; the contact ends, and the next open is a new request.
    await alice.http.leave(chat.groupId);
    await seesNothing(bob);
    const again = await bob.http.openDirect(alice.accountId);
    expect(again.groupId).not.toBe(chat.groupId);
    expect((await alice.http.requests()).map((r) => r.groupId)).toEqual([again.groupId]);
    // Deleting a request is declining it: silent, the roster of the opener's chat does not change.
    await alice.http.leave(again.groupId);
    expect((await bob.http.group(again.groupId)).members).toHaveLength(2);
    await seesNothing(bob);
  });
});

describe('message requests, end to end (MLS)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: strict });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a request is readable before it is accepted, is marked apart, and a decline stops delivery', async () => {
    const stranger = await secureDevice(server, await server.register(nextPhone()));
    const me = await secureDevice(server, await server.register(nextPhone()));
    const chat = await stranger.client.openDirect(me.user.accountId);
    await me.joined(chat.groupId);
    await stranger.client.sendText(chat.groupId, 'hello, we met at the conference');
    expect((await me.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual([
      'hello, we met at the conference',
    ]);
    expect((await me.client.chats()).find((c) => c.groupId === chat.groupId)).toMatchObject({
      request: true,
    });
    expect((await stranger.client.chats()).find((c) => c.groupId === chat.groupId)).not.toHaveProperty(
      'request',
    );

    await me.client.declineRequest(chat.groupId);
    expect(await me.client.epoch(chat.groupId)).toBeUndefined();
    const epochBefore = await stranger.client.epoch(chat.groupId);
    await stranger.client.sendText(chat.groupId, 'are you there?');
    // The stranger's group is unchanged (nobody committed a removal); nothing more reached me.
    expect(await stranger.client.epoch(chat.groupId)).toBe(epochBefore);
    expect((await stranger.client.members(chat.groupId)).map((m) => m.accountId).sort()).toEqual(
      [stranger.user.accountId, me.user.accountId].sort(),
    );
    expect(
      (await server.app.storage.groups.membershipsOfDevice(me.user.deviceId, me.user.accountId)).map(
        (m) => m.groupId,
      ),
    ).not.toContain(chat.groupId);
    expect(me.received.filter((m) => m.groupId === chat.groupId).map((m) => m.text)).toEqual([
      'hello, we met at the conference',
    ]);
    await Promise.all([stranger, me].map((d) => d.client.stop()));
    expect([...stranger.problems, ...me.problems]).toEqual([]);
  });

  it('either person leaves an accepted direct chat: the other device removes the leaver from the MLS group', async () => {
    const a = await secureDevice(server, await server.register(nextPhone()));
    const b = await secureDevice(server, await server.register(nextPhone()));
    const chat = await a.client.openDirect(b.user.accountId);
    await b.joined(chat.groupId);
    await b.client.acceptRequest(chat.groupId);
    const epoch = (await a.client.epoch(chat.groupId))!;
    await b.client.leave(chat.groupId);
    await a.atEpoch(chat.groupId, epoch + 1);
    expect((await a.client.members(chat.groupId)).map((m) => m.accountId)).toEqual([a.user.accountId]);
    expect(await b.client.epoch(chat.groupId)).toBeUndefined();
    await Promise.all([a, b].map((d) => d.client.stop()));
    expect([...a.problems, ...b.problems]).toEqual([]);
  });
});

describe('group invitations', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: strict });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("a stranger's add is an invitation; accepting it puts me in the group and I read the next message", async () => {
    const owner = await secureDevice(server, await server.register(nextPhone()));
    const friend = await secureDevice(server, await server.register(nextPhone()));
    const invitee = await secureDevice(server, await server.register(nextPhone()));
    const group = await owner.client.createGroup('book club', [friend.user.accountId]);
    expect(group.members.map((m) => m.accountId)).toEqual([owner.user.accountId]);
    expect((await friend.user.http.requests()).map((r) => r.type)).toEqual(['invitation']);
    await friend.user.http.declineRequest(group.groupId);
    expect(await friend.user.http.requests()).toEqual([]);

    const added = await owner.client.addMembers(group.groupId, [invitee.user.accountId]);
    expect(added.members.map((m) => m.accountId)).toEqual([owner.user.accountId]);
    expect(await invitee.user.http.requests()).toEqual([
      {
        type: 'invitation',
        groupId: group.groupId,
        title: 'book club',
        fromAccountId: owner.user.accountId,
        memberCount: 1,
        createdAtMs: expect.any(Number),
      },
    ]);
    await expect(invitee.user.http.group(group.groupId)).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    // Not on the roster, so not in the encryption group either.
    const mls = await owner.user.http.call<{ leaves: { accountId: string }[] }>(
      'GET',
      `/v1/groups/${group.groupId}/mls`,
    );
    expect(mls.leaves.map((l) => l.accountId)).toEqual([owner.user.accountId]);

    const joined = await invitee.client.acceptRequest(group.groupId);
    expect(joined.members.map((m) => m.accountId).sort()).toEqual(
      [owner.user.accountId, invitee.user.accountId].sort(),
    );
    await invitee.joined(group.groupId);
    await owner.client.sendText(group.groupId, 'welcome to the club');
    expect((await invitee.waitFor(group.groupId, 1)).map((m) => m.text)).toEqual(['welcome to the club']);
    await Promise.all([owner, friend, invitee].map((d) => d.client.stop()));
    expect([...owner.problems, ...invitee.problems]).toEqual([]);
  });

  it('"who may add me": everybody adds at once, contacts only contacts, nobody always invites', async () => {
    const [admin, open, closed, normal] = await Promise.all(
      [1, 2, 3, 4].map(() => server.register(nextPhone())),
    );
    await open!.http.updatePrivacySettings({ groupAdd: 'everybody' });
    await closed!.http.updatePrivacySettings({ groupAdd: 'nobody' });
    // `normal` (contacts, the default) and `closed` are the admin's contacts.
    for (const person of [normal!, closed!]) {
      const chat = await admin!.http.openDirect(person.accountId);
      await person.http.acceptRequest(chat.groupId);
    }
    expect((await admin!.http.privacySettings()).groupAdd).toBe('contacts');
    const group = await admin!.http.createGroup('settings', [
      open!.accountId,
      closed!.accountId,
      normal!.accountId,
    ]);
    expect(group.members.map((m) => m.accountId).sort()).toEqual(
      [admin!.accountId, open!.accountId, normal!.accountId].sort(),
    );
    expect((await closed!.http.requests()).map((r) => r.groupId)).toEqual([group.groupId]);
  });
});

describe('blocking is silent', () => {
  let server: TestServer;
  let alice: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ config: strict });
    alice = await server.register(nextPhone());
    await alice.http.setUsername('alice_blocks');
    await server.app.storage.accounts.touchLastSeenDay([alice.accountId], DAY);
  });
  afterAll(async () => {
    await server?.close();
  });

  /** What a person can observe when they try to reach Alice, with ids replaced by their role. */
  async function reachAlice(user: TestUser) {
    const lookups = [
      await user.http.lookup({ username: 'alice_blocks' }),
      await user.http.lookup({ phone: alice.phone }),
    ];
    const chat = await user.http.openDirect(alice.accountId);
    const device = await connectDevice(server.url, user);
    const sent = await device.connection.send(chat.groupId, text('please answer'));
    const mailbox = await device.connection.sendToDevice(alice.deviceId, text('a welcome, say'));
    const group = await user.http.createGroup('come join', [alice.accountId]);
    await device.connection.stop();
    const detail = await user.http.group(chat.groupId);
    const anon = (s: string) =>
      s.replaceAll(user.accountId, 'ME').replaceAll(chat.groupId, 'CHAT').replaceAll(group.groupId, 'GROUP');
    const members = (c: GroupDetailView) => c.members.map((m) => anon(`${m.accountId} ${m.role}`)).sort();
    const observed = {
      lookups,
      chat: { ...chat, createdAtMs: 0, members: members(chat) },
      sent: { duplicate: sent.duplicate, seq: sent.seq },
      mailbox: { duplicate: mailbox.duplicate },
      group: { ...group, createdAtMs: 0, members: members(group) },
      detail: { ...detail, createdAtMs: 0, lastSeq: 0, members: members(detail) },
    };
    return { groupId: chat.groupId, observed: JSON.parse(anon(JSON.stringify(observed))) };
  }

  it('the blocked person gets exactly the replies a person who is not blocked gets, and reaches nothing', async () => {
    const [mallory, carol] = [await server.register(nextPhone()), await server.register(nextPhone())];
    await alice.http.block(mallory.accountId);
    expect((await alice.http.blocks()).map((b) => b.accountId)).toEqual([mallory.accountId]);

    const blocked = await reachAlice(mallory);
    const control = await reachAlice(carol);
    expect(blocked.observed).toEqual(control.observed);
    // Only Carol's item waits in the mailbox of Alice's device.
    expect(
      (await server.app.storage.mailbox.range(alice.deviceId, 0, 100)).map((r) => r.senderAccountId),
    ).toEqual([carol.accountId]);

    // Alice has Carol's request, invitation, message and mailbox item; nothing of Mallory's.
    const requests = await alice.http.requests();
    expect(requests.map((r) => r.fromAccountId)).toEqual([carol.accountId, carol.accountId]);
    const memberships = await server.app.storage.groups.membershipsOfDevice(alice.deviceId, alice.accountId);
    expect(memberships.map((m) => m.groupId)).toContain(control.groupId);
    expect(memberships.map((m) => m.groupId)).not.toContain(blocked.groupId);
    const aliceDevice = await connectDevice(server.url, alice);
    await aliceDevice.waitForMessages(1);
    expect(aliceDevice.messages().map((m) => untext(m.payload))).toEqual(['please answer']);
    await aliceDevice.connection.stop();

    // Unblocking lifts the rule for what comes next; a new request from Mallory then arrives.
    await alice.http.unblock(mallory.accountId);
    expect(await alice.http.blocks()).toEqual([]);
    const later = await mallory.http.openDirect(alice.accountId);
    expect(later.groupId).toBe(blocked.groupId);
  });

  it('blocking from a request or a chat ends the contact and drops waiting invitations', async () => {
    const dave = await server.register(nextPhone());
    const chat = await dave.http.openDirect(alice.accountId);
    await alice.http.acceptRequest(chat.groupId);
    expect((await dave.http.lookup({ accountId: alice.accountId })).phone).toBe(alice.phone);
    // Alice lets nobody add her to groups: her contact Dave's add is an invitation.
    await alice.http.updatePrivacySettings({ groupAdd: 'nobody' });
    const group = await dave.http.createGroup('dave’s', [alice.accountId]);
    expect((await alice.http.requests()).map((r) => r.groupId)).toContain(group.groupId);

    await alice.http.block(dave.accountId);
    expect(await dave.http.lookup({ accountId: alice.accountId })).not.toHaveProperty('phone');
    expect((await alice.http.requests()).map((r) => r.groupId)).not.toContain(group.groupId);
    expect((await alice.http.groups()).map((g) => g.groupId)).not.toContain(chat.groupId);
    // Dave's chat still shows both of them.
    expect((await dave.http.group(chat.groupId)).members).toHaveLength(2);
    await expect(alice.http.block(alice.accountId)).rejects.toMatchObject({ code: 'CONSENT_SELF_BLOCK' });
  });
});

describe('request limits', () => {
  it('refuse new chats beyond the limit with a typed error, and slow down an often-refused sender', async () => {
    const server = await startTestServer({
      config: {
        consent: {
          requestsPerAccount: 3,
          slowedRequestsPerAccount: 1,
          refusalsBeforeSlowdown: 1,
          requestsPerAddress: 1000,
        },
      },
    });
    try {
      const [sender, a, b, c, d] = await Promise.all([1, 2, 3, 4, 5].map(() => server.register(nextPhone())));
      const first = await sender!.http.openDirect(a!.accountId);
      await sender!.http.openDirect(b!.accountId);
      // Opening a chat that exists costs nothing.
      await sender!.http.openDirect(a!.accountId);
      await sender!.http.openDirect(c!.accountId);
      await expect(sender!.http.openDirect(d!.accountId)).rejects.toMatchObject({
        code: 'CONSENT_RATE_LIMITED',
        status: 429,
        details: { retryAfterMs: 24 * 3_600_000, limit: 'account' },
      });
      // Invitations count too.
      await expect(sender!.http.createGroup('spam', [d!.accountId])).rejects.toMatchObject({
        code: 'CONSENT_RATE_LIMITED',
      });

      // Someone else, declined once, is held to the slowed limit (1) at once.
      const [other, e, f] = await Promise.all([6, 7, 8].map(() => server.register(nextPhone())));
      const declined = await other!.http.openDirect(e!.accountId);
      await e!.http.declineRequest(declined.groupId);
      await expect(other!.http.openDirect(f!.accountId)).rejects.toMatchObject({
        code: 'CONSENT_RATE_LIMITED',
      });
      expect(first.groupId).toBeTruthy();
    } finally {
      await server.close();
    }
  });

  it('count per client address across accounts', async () => {
    const server = await startTestServer({ config: { consent: { requestsPerAddress: 2 } } });
    try {
      const [u1, u2, x, y, z] = await Promise.all([1, 2, 3, 4, 5].map(() => server.register(nextPhone())));
      await u1!.http.openDirect(x!.accountId);
      await u2!.http.openDirect(y!.accountId);
      await expect(u1!.http.openDirect(z!.accountId)).rejects.toMatchObject({
        code: 'CONSENT_RATE_LIMITED',
        details: { limit: 'address' },
      });
    } finally {
      await server.close();
    }
  });
});

describe('export and erasure cover requests, blocks and invitations', () => {
  it('exports them, and erases every one that names the account', async () => {
    const server = await startTestServer({ config: strict });
    try {
      const [me, opener, inviter, blocked] = await Promise.all(
        [1, 2, 3, 4].map(() => server.register(nextPhone())),
      );
      const request = await opener!.http.openDirect(me!.accountId);
      const group = await inviter!.http.createGroup('invites', [me!.accountId]);
      const mine = await me!.http.createGroup('my own', [blocked!.accountId]);
      await me!.http.block(blocked!.accountId);
      await me!.http.updatePrivacySettings({ groupAdd: 'nobody' });

      const data = JSON.parse(strFromU8(unzipSync(await me!.http.exportData())['account.json']!));
      expect(data.privacySettings).toMatchObject({ groupAdd: 'nobody' });
      expect(data.chats).toEqual(
        expect.arrayContaining([expect.objectContaining({ chatId: request.groupId, consent: 'request' })]),
      );
      expect(data.blocks).toEqual([{ accountId: blocked!.accountId, blockedAt: expect.any(String) }]);
      expect(data.invitations).toEqual([
        { chatId: group.groupId, fromAccountId: inviter!.accountId, invitedAt: expect.any(String) },
      ]);
      expect(data.invitationsSent).toEqual([
        { chatId: mine.groupId, toAccountId: blocked!.accountId, invitedAt: expect.any(String) },
      ]);

      await me!.http.deleteAccount(me!.phone);
      const storage = server.app.storage;
      expect(await storage.blocks.byBlocker(me!.accountId)).toEqual([]);
      expect(await storage.invitations.forAccount(me!.accountId)).toEqual([]);
      expect(await storage.invitations.sentBy(me!.accountId)).toEqual([]);
      expect(await storage.invitations.forAccount(blocked!.accountId)).toEqual([]);
      expect(await storage.groups.member(request.groupId, me!.accountId)).toBeUndefined();
      expect(
        await storage.rateLimits.current(`consent:account:${me!.accountId}`, Date.now(), 86_400_000),
      ).toBe(0);
    } finally {
      await server.close();
    }
  });
});
