/**
 * Issue 16, on SQLite and on PostgreSQL: who runs a channel (its owner and admins, by @username and
 * display name, never a phone number; asked by its owner and admins only), what an invite link leads
 * to before joining (title, @name, description, subscriber count and key; nothing subscribed or counted; an
 * unknown or revoked link refused with CHANNEL_INVITE_INVALID; asking is rate limited per account).
 */
import { channelKeyFingerprint, decodeBase64 } from '@courier/protocol';
import { ChannelClient, MemoryChannelKeyring } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from './support/failure.ts';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';

describe.each(['sqlite', 'postgres'] as const)('channel admins and invite previews on %s', (storage) => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  const clientOf = (user: TestUser) => new ChannelClient(user.http, new MemoryChannelKeyring());

  beforeAll(async () => {
    server = await startTestServer({
      storage,
      config: { limits: { channelSubscriptionChangesPerAccount: 6 } },
    });
    [alice, bob, carol, dave] = await Promise.all([
      server.register(nextPhone()),
      server.register(nextPhone()),
      server.register(nextPhone()),
      server.register(nextPhone()),
    ]);
    await alice.http.setUsername('alice_owner');
    await alice.http.setDisplayName('Alice Owner');
    await bob.http.setUsername('bob_admin');
    await carol.http.setDisplayName('Carol Helper');
  });
  afterAll(async () => server?.close());

  it('lists the owner and admins to admins only, by username and name, never a phone number', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create('roster_news', 'Roster news', 'public');
    await owner.setAdmin(channel.channelId, bob.accountId, true);
    await owner.setAdmin(channel.channelId, carol.accountId, true);
    await clientOf(dave).subscribe({ name: 'roster_news' });

    const listed = await owner.admins(channel.channelId);
    expect(listed.map((a) => [a.role, a.accountId, a.username, a.displayName])).toEqual([
      ['owner', alice.accountId, 'alice_owner', 'Alice Owner'],
      ['admin', bob.accountId, 'bob_admin', ''],
      ['admin', carol.accountId, null, 'Carol Helper'],
    ]);
    const wire = JSON.stringify(listed);
    for (const user of [alice, bob, carol]) expect(wire).not.toContain(user.phone);
    // An admin sees the same list; a subscriber and a stranger are refused with a typed error.
    expect(await clientOf(bob).admins(channel.channelId)).toEqual(listed);
    expect(await failure(clientOf(dave).admins(channel.channelId))).toBe('CHANNEL_NOT_ADMIN');

    // A removed admin is gone from the list, and can no longer read it.
    await owner.removeAdmin(channel.channelId, carol.accountId);
    expect((await owner.admins(channel.channelId)).map((a) => a.accountId)).toEqual([
      alice.accountId,
      bob.accountId,
    ]);
    expect(await failure(clientOf(carol).admins(channel.channelId))).toBe('CHANNEL_NOT_ADMIN');

    // A private channel does not tell an outsider it exists.
    const hidden = await owner.create('roster_hidden', 'Hidden', 'private');
    expect(await failure(clientOf(dave).admins(hidden.channelId))).toBe('CHANNEL_NOT_FOUND');
    expect(await failure(owner.admins('channel_nosuch'))).toBe('CHANNEL_NOT_FOUND');
  });

  it('previews a private channel from a live invite without joining; a revoked or unknown link is refused', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create(
      'preview_club',
      'Preview club',
      'private',
      'Members talk\nabout previews',
    );
    const invite = await owner.createInvite(channel.channelId);
    const reader = clientOf(dave);

    const preview = await reader.previewInvite(invite.token);
    expect(preview).toEqual({
      channelId: channel.channelId,
      name: 'preview_club',
      title: 'Preview club',
      description: 'Members talk\nabout previews',
      visibility: 'private',
      subscriberCount: 1,
      publicKey: channel.publicKey,
      keyFingerprint: channelKeyFingerprint(decodeBase64(channel.publicKey)!),
      myRole: null,
    });
    // Nothing was joined: the channel still hides from Dave, and counts one subscriber.
    expect(await failure(reader.show(channel.channelId))).toBe('CHANNEL_NOT_FOUND');
    expect((await owner.show(channel.channelId)).subscriberCount).toBe(1);

    // Joining with the same link, then previewing again, says so.
    await reader.subscribe({ invite: invite.token });
    expect(await reader.previewInvite(invite.token)).toMatchObject({
      subscriberCount: 2,
      myRole: 'subscriber',
    });

    await owner.revokeInvite(channel.channelId, invite.inviteId);
    expect(await failure(clientOf(carol).previewInvite(invite.token))).toBe('CHANNEL_INVITE_INVALID');
    expect(await failure(clientOf(carol).previewInvite('x'.repeat(32)))).toBe('CHANNEL_INVITE_INVALID');
    // The schema refuses what is no token at all.
    expect(await failure(clientOf(carol).previewInvite('y'.repeat(400)))).toBe('REQ_INVALID');
  });

  it('keeps a description of at most 512 characters without control characters other than line breaks', async () => {
    const owner = clientOf(dave);
    expect((await owner.create('plain_channel', 'Plain', 'public')).description).toBe('');
    const described = await owner.create('described_one', 'Described', 'public', '  Daily notes\n  ');
    expect(described.description).toBe('Daily notes');
    expect((await clientOf(carol).show('@described_one')).description).toBe('Daily notes');
    for (const bad of ['x'.repeat(513), 'bell\u0007', 'flip\u202e'])
      expect(
        await failure(
          owner.create(`bad_${bad.length}_${bad.charCodeAt(bad.length - 1)}`, 'Bad', 'public', bad),
        ),
      ).toBe('CHANNEL_INVALID');
  });

  it('counts previews per account so that tokens cannot be probed at speed', async () => {
    const owner = clientOf(bob);
    const channel = await owner.create('preview_limit', 'Limit', 'private');
    const invite = await owner.createInvite(channel.channelId);
    const prober = clientOf(carol);
    const codes: string[] = [];
    // Carol spent 2 previews above; the window allows 6.
    for (let i = 0; i < 5; i += 1)
      codes.push(
        await prober.previewInvite(invite.token).then(
          () => 'ok',
          (error: { code?: string }) => error.code ?? 'error',
        ),
      );
    expect(codes).toEqual(['ok', 'ok', 'ok', 'ok', 'CHANNEL_RATE_LIMITED']);
    // Subscribing is counted apart: Carol can still join.
    expect((await prober.subscribe({ invite: invite.token })).myRole).toBe('subscriber');
  });
});
