/**
 * Issue 16, broadcast channels: the proofs, on SQLite and on PostgreSQL. A subscriber offline
 * during 100 posts gets all of them when it comes back, in order, once; live subscribers hear a
 * signal and read the post; a revoked invite link admits no one; a non-admin cannot post; a post
 * altered in the database is rejected by the subscriber's client; view counts without viewers;
 * subscribers are not visible to admins; erasure and export cover channels.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';
import { encodeBase64, generateChannelKey, signChannelPost } from '@courier/protocol';
import {
  ChannelClient,
  type ChannelPost,
  CourierConnection,
  type CourierHttp,
  MemoryChannelKeyring,
  MemoryClientStore,
} from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';
import { collectAccountData } from '../packages/server/src/privacy/export-archive.ts';
import { createTestDatabase } from './support/postgres.ts';
import { until } from './support/until.ts';
import { failure } from './support/failure.ts';

/** The same HTTP client, counting the requests that read posts or move a cursor. */
function counting(http: CourierHttp): { http: CourierHttp; reads: string[] } {
  const reads: string[] = [];
  const proxy = new Proxy(http, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === 'call')
        return (method: string, path: string, ...rest: unknown[]) => {
          if (/\/posts\?|\/read$/.test(path)) reads.push(`${method} ${path}`);
          return (value as (...a: unknown[]) => unknown).call(target, method, path, ...rest);
        };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { http: proxy, reads };
}

const text = (t: string) => ({ v: 1 as const, type: 'text' as const, text: t, sentAtMs: 1 });
const textOf = (post: ChannelPost) =>
  post.kind === 'verified' && post.content?.kind === 'known' && post.content.content.type === 'text'
    ? post.content.content.text
    : undefined;

/**
 * Posts of more than 4 KiB are signalled only (the default is 16 KiB; a text post can be as large),
 * and an account may subscribe or unsubscribe 30 times an hour (the default is 200).
 */
const pushLimit = {
  delivery: { channelPushBytes: 4096 },
  limits: { channelSubscriptionChangesPerAccount: 30 },
};

describe.each(['sqlite', 'postgres'] as const)('channels on %s', (storage) => {
  let server: TestServer;
  let tamper: (sql: string, params: unknown[]) => Promise<void>;
  const cleanups: (() => Promise<void> | void)[] = [];
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const clientOf = (user: TestUser) => new ChannelClient(user.http, new MemoryChannelKeyring());

  beforeAll(async () => {
    if (storage === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'courier-channels-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const sqlitePath = join(dir, 'courier.db');
      server = await startTestServer({ storage, sqlitePath, config: pushLimit });
      tamper = async (sql, params) => {
        const db = new Database(sqlitePath);
        try {
          db.prepare(sql.replaceAll(/\$\d/g, '?')).run(...params);
        } finally {
          db.close();
        }
      };
    } else {
      const db = await createTestDatabase();
      server = await startTestServer({ storage, databaseUrl: db.url, config: pushLimit });
      cleanups.push(db.drop);
      tamper = async (sql, params) => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          await client.query(sql, params);
        } finally {
          await client.end();
        }
      };
    }
    alice = await server.register(nextPhone());
    bob = await server.register(nextPhone());
    carol = await server.register(nextPhone());
  });

  afterAll(async () => {
    await server?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('a subscriber offline during 100 posts gets all of them when back, in order, once', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create(`news_${storage}`, 'News', 'public');
    const bobs = counting(bob.http);
    const reader = new ChannelClient(bobs.http, new MemoryChannelKeyring());
    const view = await reader.subscribe({ name: `@news_${storage}` });
    expect(view).toMatchObject({ channelId: channel.channelId, myRole: 'subscriber', subscriberCount: 2 });

    // Live: Bob is connected and hears each post.
    const seen: ChannelPost[] = [];
    reader.on('post', (p) => seen.push(p));
    const connection = new CourierConnection({
      url: server.url,
      token: bob.token,
      store: new MemoryClientStore(),
      reconnectBaseMs: 20,
      reconnectCapMs: 200,
    });
    reader.attach(connection);
    connection.start();
    await connection.ready();
    await owner.post(channel.channelId, text('live one'));
    await until(() => seen.length === 1, 'the live post');
    expect(textOf(seen[0]!)).toBe('live one');
    // It came in its frame: nothing was read over HTTP.
    expect(bobs.reads).toEqual([]);
    await connection.stop();

    // Offline for 100 posts.
    for (let i = 0; i < 100; i += 1) await owner.post(channel.channelId, text(`post ${i}`));
    const back = new CourierConnection({ url: server.url, token: bob.token, store: new MemoryClientStore() });
    // A sync at reconnect and the signal the server sends on hello may overlap: still each post once.
    reader.attach(back);
    back.start();
    await back.ready();
    await reader.sync(channel.channelId);
    await until(() => seen.length >= 101, 'the 100 posts');
    // Back online after the gap was read: the next posts come in their frames again (posted
    // without waiting, so some may arrive while a read is still under way).
    const readsAfterGap = bobs.reads.length;
    await Promise.all([0, 1, 2].map((i) => owner.post(channel.channelId, text(`after ${i}`))));
    await until(() => seen.length >= 104, 'the posts after the gap');
    await new Promise((r) => setTimeout(r, 200));
    await back.stop();
    expect(seen).toHaveLength(104);
    expect(seen.every((p) => p.kind === 'verified')).toBe(true);
    expect(seen.slice(1, 101).map(textOf)).toEqual(Array.from({ length: 100 }, (_, i) => `post ${i}`));
    expect(seen.slice(101).map(textOf).sort()).toEqual(['after 0', 'after 1', 'after 2']);
    const seqs = seen.map((p) => p.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seen.map((p) => p.postId)).size).toBe(104);
    expect(bobs.reads.length).toBe(readsAfterGap);

    // Each post was counted once for Bob (and for no one else: Alice never read).
    // The last three moved Bob's cursor over the socket, as a batch that may land after the socket closed.
    await until(async () => (await reader.show(channel.channelId)).cursor === 104, "Bob's cursor");
    const page = await owner.posts(channel.channelId, 0, 500);
    expect(page.posts.map((p) => (p.kind === 'verified' ? p.views : -1))).toEqual(Array(104).fill(1));
    // Reading again does not count again.
    await reader.posts(channel.channelId, 0, 500);
    await reader.sync(channel.channelId);
    const again = await owner.posts(channel.channelId, 0, 500);
    expect(again.posts.map((p) => (p.kind === 'verified' ? p.views : -1))).toEqual(Array(104).fill(1));
  });

  it('live subscribers get each post in its frame, checked and once; cursors move over the socket; a large post is read over HTTP; a forged one is rejected', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create(`pushed_${storage}`, 'Pushed', 'public');
    const readers = await Promise.all(
      [bob, carol].map(async (user) => {
        const counted = counting(user.http);
        const client = new ChannelClient(counted.http, new MemoryChannelKeyring());
        await client.subscribe({ name: channel.name });
        const seen: ChannelPost[] = [];
        client.on('post', (p) => seen.push(p));
        const connection = new CourierConnection({
          url: server.url,
          token: user.token,
          store: new MemoryClientStore(),
          ackDelayMs: 10,
          channelReadDelayMs: 10,
        });
        client.attach(connection);
        connection.start();
        await connection.ready();
        return { client, seen, reads: counted.reads, connection };
      }),
    );
    try {
      for (let i = 0; i < 5; i += 1) await owner.post(channel.channelId, text(`pushed ${i}`));
      for (const r of readers) {
        await until(() => r.seen.length === 5, 'five pushed posts');
        expect(r.seen.map(textOf)).toEqual([0, 1, 2, 3, 4].map((i) => `pushed ${i}`));
        expect(r.seen.every((p) => p.kind === 'verified')).toBe(true);
        // Neither the posts nor the cursor went over HTTP.
        expect(r.reads).toEqual([]);
        await until(async () => (await r.client.show(channel.channelId)).cursor === 5, 'the cursor moved');
      }
      // Each post was counted once for each of the two subscribers (from the socket's batches).
      const page = await owner.posts(channel.channelId, 0);
      expect(page.posts.map((p) => (p.kind === 'verified' ? p.views : -1))).toEqual(Array(5).fill(2));

      // A post over the push limit (4 KiB here) comes as a signal only: it is read from the cursor over HTTP.
      const long = 'x'.repeat(6_000);
      await owner.post(channel.channelId, text(long));
      for (const r of readers) {
        await until(() => r.seen.length === 6, 'the large post');
        expect(textOf(r.seen[5]!)).toBe(long);
        expect(r.reads.some((call) => call.startsWith('GET'))).toBe(true);
      }

      // The server (or whoever runs its database) puts in a post of its own: it is pushed like any
      // other, and every subscriber's client rejects it.
      const forged = new TextEncoder().encode('{"v":1,"type":"text","text":"made up","sentAtMs":1}');
      const { secretKey } = generateChannelKey();
      const postId = 'F'.repeat(32);
      const seq = await server.app.storage.transaction(async (tx) => {
        const at = await tx.channels.nextSeq(channel.channelId);
        await tx.channelPosts.insert({
          channelId: channel.channelId,
          seq: at,
          firstSeq: at,
          postId,
          revision: 0,
          deleted: false,
          payload: forged,
          signature: signChannelPost(secretKey, {
            channelId: channel.channelId,
            postId,
            revision: 0,
            deleted: false,
            body: forged,
          }),
          authorAccountId: alice.accountId,
          createdAt: Date.now(),
          editedAt: null,
          views: 0,
        });
        return at;
      });
      await server.app.bus.publish({ type: 'channels_appended', channels: [[channel.channelId, seq]] });
      await owner.post(channel.channelId, text('after the forgery'));
      for (const r of readers) {
        await until(() => r.seen.length === 8, 'the forged post and the next');
        expect(r.seen[6]).toMatchObject({ kind: 'rejected', postId, seq, reason: 'bad_signature' });
        expect(textOf(r.seen[7]!)).toBe('after the forgery');
      }
    } finally {
      for (const r of readers) await r.connection.stop();
    }
  });

  it('a non-admin cannot post, and the server refuses a post not signed by the channel key', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create(`only_admins_${storage}`, 'Admins only', 'public');
    const reader = clientOf(bob);
    await reader.subscribe({ name: channel.name });
    // Bob has no key, and a key of his own does not make him an admin.
    expect(await failure(reader.post(channel.channelId, text('hi')))).toBe('CHANNEL_NOT_ADMIN');
    const { secretKey } = generateChannelKey();
    reader.importSecretKey('c_other', secretKey);
    const postId = 'A'.repeat(32);
    const body = new TextEncoder().encode('{"v":1,"type":"text","text":"x","sentAtMs":1}');
    const forged = {
      postId,
      revision: 0,
      deleted: false,
      body: encodeBase64(body),
      signature: encodeBase64(
        signChannelPost(secretKey, {
          channelId: channel.channelId,
          postId,
          revision: 0,
          deleted: false,
          body,
        }),
      ),
    };
    expect(await failure(bob.http.call('POST', `/v1/channels/${channel.channelId}/posts`, forged))).toBe(
      'CHANNEL_NOT_ADMIN',
    );
    // The owner's session with a wrong key: the signature check refuses it.
    expect(await failure(alice.http.call('POST', `/v1/channels/${channel.channelId}/posts`, forged))).toBe(
      'CHANNEL_POST_BAD_SIGNATURE',
    );
    // An admin named by the owner may post once it holds the key.
    await owner.setAdmin(channel.channelId, carol.accountId, true);
    const admin = clientOf(carol);
    await admin.subscribe({ name: channel.name });
    admin.importSecretKey(channel.channelId, owner.exportSecretKey(channel.channelId)!);
    await admin.post(channel.channelId, text('from the admin'));
    const page = await reader.posts(channel.channelId, 0);
    expect(page.posts.map(textOf)).toEqual(['from the admin']);
    // Subscribers are not visible to admins: the channel shows a count, and no route lists them.
    const shown = await admin.show(channel.channelId);
    expect(shown.subscriberCount).toBe(3);
    expect(JSON.stringify(shown)).not.toContain(bob.accountId);
    expect(JSON.stringify(shown)).not.toContain(bob.phone);
    expect(await failure(carol.http.call('GET', `/v1/channels/${channel.channelId}/subscribers`))).toBe(
      'REQ_NOT_FOUND',
    );
  });

  it('a private channel admits by invite only, and a revoked invite admits no one', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create(`secret_${storage}`, 'Secret', 'private');
    const bobs = clientOf(bob);
    const carols = clientOf(carol);
    expect(await failure(bobs.subscribe({ name: channel.name }))).toBe('CHANNEL_PRIVATE');
    expect(await failure(bobs.show(channel.channelId))).toBe('CHANNEL_NOT_FOUND');
    expect(await failure(bobs.posts(channel.channelId, 0))).toBe('CHANNEL_NOT_FOUND');
    const invite = await owner.createInvite(channel.channelId);
    expect((await bobs.subscribe({ invite: invite.token })).channelId).toBe(channel.channelId);
    // A subscriber cannot make or revoke invites.
    expect(await failure(bobs.createInvite(channel.channelId))).toBe('CHANNEL_NOT_ADMIN');
    await owner.revokeInvite(channel.channelId, invite.inviteId);
    expect(await failure(carols.subscribe({ invite: invite.token }))).toBe('CHANNEL_INVITE_INVALID');
    expect(await failure(carols.subscribe({ invite: 'not-a-token' }))).toBe('CHANNEL_INVITE_INVALID');
    expect(await failure(carols.show(channel.channelId))).toBe('CHANNEL_NOT_FOUND');
    expect((await owner.invites(channel.channelId)).map((i) => i.revokedAtMs !== null)).toEqual([true]);
    expect(JSON.stringify(await owner.invites(channel.channelId))).not.toContain(invite.token);
    // Bob, admitted before the revocation, stays.
    await owner.post(channel.channelId, text('members only'));
    expect((await bobs.posts(channel.channelId, 0)).posts.map(textOf)).toEqual(['members only']);
    await bobs.unsubscribe(channel.channelId);
    expect(await failure(bobs.posts(channel.channelId, 0))).toBe('CHANNEL_NOT_FOUND');
  });

  it('a post altered in the database is rejected by the subscriber, and edits and deletions verify', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create(`tamper_${storage}`, 'Tamper', 'public');
    const reader = clientOf(bob);
    await reader.subscribe({ name: channel.name });
    const first = await owner.post(channel.channelId, text('the real words'));
    const second = await owner.post(channel.channelId, text('to be edited'));
    await owner.edit(channel.channelId, second.postId, second.revision, text('edited words'));
    const third = await owner.post(channel.channelId, text('to be deleted'));
    await owner.delete(channel.channelId, third.postId, third.revision);
    const forged = new TextEncoder().encode(
      '{"v":1,"type":"text","text":"words the server made up","sentAtMs":1}',
    );
    await tamper('UPDATE channel_posts SET payload = $1 WHERE channel_id = $2 AND post_id = $3', [
      Buffer.from(forged),
      channel.channelId,
      first.postId,
    ]);
    const seen: ChannelPost[] = [];
    reader.on('post', (p) => seen.push(p));
    await reader.sync(channel.channelId);
    const byPost = new Map(seen.map((p) => [p.postId, p]));
    expect(byPost.get(first.postId)).toMatchObject({ kind: 'rejected', reason: 'bad_signature' });
    expect(textOf(byPost.get(second.postId)!)).toBe('edited words');
    expect(byPost.get(second.postId)).toMatchObject({ kind: 'verified', revision: 1 });
    expect(byPost.get(third.postId)).toMatchObject({ kind: 'verified', deleted: true, content: undefined });
    // An old revision replayed is refused; an edit by a non-admin too.
    expect(await failure(owner.edit(channel.channelId, second.postId, 0, text('stale')))).toBe(
      'CHANNEL_POST_STALE_REVISION',
    );
    expect(await failure(reader.edit(channel.channelId, second.postId, 1, text('mine')))).toBe(
      'CHANNEL_NOT_ADMIN',
    );
  });

  it('a changed channel key is reported and posts under it are rejected', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create(`rekey_${storage}`, 'Rekey', 'public');
    const reader = clientOf(bob);
    await reader.subscribe({ name: channel.name });
    await owner.post(channel.channelId, text('before'));
    // The server (or whoever runs its database) swaps the key and signs a post with its own.
    const { secretKey, publicKey } = generateChannelKey();
    await tamper('UPDATE channels SET public_key = $1 WHERE id = $2', [
      Buffer.from(publicKey),
      channel.channelId,
    ]);
    const intruder = new ChannelClient(alice.http, new MemoryChannelKeyring());
    intruder.importSecretKey(channel.channelId, secretKey);
    await intruder.post(channel.channelId, text('after the swap'));
    const changes: unknown[] = [];
    reader.on('key_changed', (c) => changes.push(c));
    await reader.show(channel.channelId);
    expect(changes).toEqual([
      {
        channelId: channel.channelId,
        name: channel.name,
        pinned: channel.publicKey,
        served: encodeBase64(publicKey),
      },
    ]);
    const page = await reader.posts(channel.channelId, 0);
    expect(page.posts.map((p) => p.kind)).toEqual(['verified', 'rejected']);
  });

  it('subscribes and unsubscribes are rate limited per account, tried ones included', async () => {
    const channel = await clientOf(alice).create(`busy_${storage}`, 'Busy', 'public');
    const frank = await server.register(nextPhone());
    const franks = clientOf(frank);
    // 30 changes in the window: a failed one (no such channel) counts too.
    expect(await failure(franks.subscribe({ name: 'no_such_channel_here' }))).toBe('CHANNEL_NOT_FOUND');
    for (let i = 0; i < 29; i += 1) {
      if (i % 2 === 0) await franks.subscribe({ name: channel.name });
      else await franks.unsubscribe(channel.channelId);
    }
    expect(await failure(franks.unsubscribe(channel.channelId))).toBe('CHANNEL_RATE_LIMITED');
    expect(await failure(franks.subscribe({ name: channel.name }))).toBe('CHANNEL_RATE_LIMITED');
    // Refused changes changed nothing; another account is not limited by Frank's changes.
    expect((await franks.show(channel.channelId)).myRole).toBe('subscriber');
    const grace = await server.register(nextPhone());
    expect((await clientOf(grace).subscribe({ name: channel.name })).myRole).toBe('subscriber');
  });

  it('bad input gets typed errors', async () => {
    const owner = clientOf(alice);
    expect(await failure(owner.create('x', 'Too short a name', 'public'))).toBe('CHANNEL_NAME_INVALID');
    expect(await failure(owner.create('valid_name_1', '', 'public'))).toBe('CHANNEL_INVALID');
    await owner.create(`taken_${storage}`, 'Taken', 'public');
    expect(await failure(clientOf(bob).create(`TAKEN_${storage}`, 'Again', 'public'))).toBe(
      'CHANNEL_NAME_TAKEN',
    );
    expect(await failure(clientOf(bob).subscribe({ name: 'no_such_channel' }))).toBe('CHANNEL_NOT_FOUND');
    const channel = await owner.show(`taken_${storage}`);
    expect(
      await failure(
        alice.http.call('POST', `/v1/channels/${channel.channelId}/posts`, {
          postId: 'short',
          revision: 0,
          deleted: false,
          body: 'AAAA',
          signature: 'AAAA',
        }),
      ),
    ).toBe('CHANNEL_POST_INVALID');
    expect(await failure(alice.http.call('GET', `/v1/channels/${channel.channelId}/posts?after=-1`))).toBe(
      'REQ_INVALID',
    );
    expect(await failure(clientOf(bob).unsubscribe(channel.channelId))).toBe('CHANNEL_NOT_SUBSCRIBED');
  });

  it('the owner and admins edit the title and description, checked as at creation; subscribers see the change; export too', async () => {
    const owner = clientOf(alice);
    const channel = await owner.create(`edited_${storage}`, 'First title', 'public', 'First words');
    const reader = clientOf(bob);
    await reader.subscribe({ name: channel.name });
    const linked = await owner.createInvite(channel.channelId);

    // Only the description; the title stays. Every field but these two stays as it was.
    const described = await owner.editInfo(channel.channelId, { description: 'New words\non two lines' });
    expect(described).toMatchObject({
      channelId: channel.channelId,
      name: channel.name,
      title: 'First title',
      description: 'New words\non two lines',
      visibility: 'public',
      publicKey: channel.publicKey,
      myRole: 'owner',
    });
    // A subscriber sees it on the next read: the channel, its list, an invite's preview.
    expect(await reader.show(channel.channelId)).toMatchObject({ description: 'New words\non two lines' });

    // An admin may edit (trimmed as at creation); a subscriber who is not one may not.
    await owner.setAdmin(channel.channelId, carol.accountId, true);
    const admin = clientOf(carol);
    expect(
      await admin.editInfo(channel.channelId, { title: '  Second title ', description: '' }),
    ).toMatchObject({
      title: 'Second title',
      description: '',
      myRole: 'admin',
    });
    expect(await failure(reader.editInfo(channel.channelId, { title: 'Mine now' }))).toBe(
      'CHANNEL_NOT_ADMIN',
    );
    expect((await reader.list()).find((c) => c.channelId === channel.channelId)).toMatchObject({
      title: 'Second title',
      description: '',
      myRole: 'subscriber',
    });
    expect(await clientOf(carol).previewInvite(linked.token)).toMatchObject({ title: 'Second title' });

    // The limits of creation, with typed errors; nothing changes on a refusal.
    for (const bad of [
      { title: '' },
      { title: '   ' },
      { title: 'x'.repeat(129) },
      { title: 'bad\u0007bell' },
      { title: 'right\u202eleft' },
      { title: 'two\nlines' },
      { description: 'y'.repeat(513) },
      { description: 'bad\u0000nul' },
    ])
      expect(await failure(owner.editInfo(channel.channelId, bad)), JSON.stringify(bad)).toBe(
        'CHANNEL_INVALID',
      );
    expect(await failure(owner.editInfo(channel.channelId, {}))).toBe('REQ_INVALID');
    expect(
      await failure(
        alice.http.call('PATCH', `/v1/channels/${channel.channelId}`, { title: 'T', name: 'renamed_x' }),
      ),
    ).toBe('REQ_INVALID');
    expect(await failure(owner.editInfo('c_no_such_channel', { title: 'T' }))).toBe('CHANNEL_NOT_FOUND');
    expect(await owner.show(channel.channelId)).toMatchObject({ title: 'Second title', description: '' });
    // At the limits exactly, it is taken.
    const longest = { title: 't'.repeat(128), description: 'd'.repeat(512) };
    expect(await owner.editInfo(channel.channelId, longest)).toMatchObject(longest);

    // The owner's data export carries the channel as it is now.
    const exported = await collectAccountData(server.app.storage, alice.accountId, Date.now(), 'v');
    expect(exported.channelsOwned.find((c) => c.channelId === channel.channelId)).toMatchObject(longest);
  });

  it('export lists subscriptions and owned channels; erasure removes them and the channels owned', async () => {
    const dave = await server.register(nextPhone());
    const erin = await server.register(nextPhone());
    const daves = clientOf(dave);
    const channel = await daves.create(`daves_${storage}`, 'Dave', 'public');
    await daves.post(channel.channelId, text('public words'));
    const erins = clientOf(erin);
    const other = await clientOf(alice).create(`alices_${storage}`, 'Alice', 'public');
    await erins.subscribe({ name: channel.name });
    await clientOf(dave).subscribe({ name: other.name });
    const exported = await collectAccountData(server.app.storage, dave.accountId, Date.now(), 'v');
    expect(exported.channelsOwned).toMatchObject([
      { channelId: channel.channelId, name: channel.name, subscribers: 2, posts: 1 },
    ]);
    expect(exported.channelSubscriptions.map((s) => s.name).sort()).toEqual(
      [channel.name, other.name].sort(),
    );
    const erinsExport = await collectAccountData(server.app.storage, erin.accountId, Date.now(), 'v');
    // A subscriber's export names the channel, never the other subscribers.
    expect(erinsExport.channelSubscriptions).toMatchObject([{ channelId: channel.channelId, readUpTo: 0 }]);
    expect(JSON.stringify(erinsExport)).not.toContain(dave.phone);

    await dave.http.deleteAccount(dave.phone);
    expect(await failure(erins.show(channel.channelId))).toBe('CHANNEL_NOT_FOUND');
    expect(await server.app.storage.channelPosts.range(channel.channelId, 0, 10)).toEqual([]);
    expect((await server.app.storage.channelSubscriptions.byAccount(erin.accountId)).length).toBe(0);
    expect(await server.app.storage.channelSubscriptions.byAccount(dave.accountId)).toEqual([]);
    expect((await clientOf(alice).show(other.channelId)).subscriberCount).toBe(1);
  });
});
