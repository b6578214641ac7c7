/**
 * Issue 16, media in channel posts, on SQLite and on PostgreSQL: an admin uploads a file to the
 * channel (encrypted, the key inside the signed post) and posts it; subscribers (any signed-in
 * account for a public channel, subscribers only for a private one) fetch and decrypt it; nobody
 * else uploads to a channel or reads a blob no post carries yet; a post cannot carry another chat's
 * or another post's blob; the blob goes when its post is deleted or edited to another file, when
 * the channel is deleted or its owner erased, and, never posted, after the blob TTL.
 */
import { randomBytes } from 'node:crypto';
import { MEDIA_CHUNK_CIPHERTEXT_BYTES, mediaCiphertextSize, MEDIA_UPLOAD_PATH } from '@courier/protocol';
import {
  bytesSource,
  ChannelClient,
  channelFileOf,
  describeUpload,
  downloadDecryptedFile,
  generateFileKey,
  MemoryChannelKeyring,
  newChannelPostId,
  uploadEncryptedChannelFile,
  uploadEncryptedFile,
} from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  unsafeTestingClock,
} from './support/harness.ts';
import { failure } from './support/failure.ts';

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

const HOUR = 3_600_000;

describe.each(['sqlite', 'postgres'] as const)('channel media on %s', (storage) => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 5, 1));
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  const endpoint = (user: TestUser) => ({ baseUrl: server.url, token: user.token });
  const clientOf = (user: TestUser) => new ChannelClient(user.http, new MemoryChannelKeyring());

  beforeAll(async () => {
    server = await startTestServer({
      storage,
      clock,
      config: { media: { blobTtlMs: 24 * HOUR, incompleteUploadTtlMs: HOUR } },
    });
    [alice, bob, carol, dave] = await Promise.all([
      server.register(nextPhone()),
      server.register(nextPhone()),
      server.register(nextPhone()),
      server.register(nextPhone()),
    ]);
  });
  afterAll(async () => server?.close());

  /** A channel of Alice's with Bob as admin holding the key. */
  async function channelWithAdmin(name: string, visibility: 'public' | 'private') {
    const owner = clientOf(alice);
    const channel = await owner.create(`${name}_${storage}`, name, visibility);
    await owner.setAdmin(channel.channelId, bob.accountId, true);
    const admin = clientOf(bob);
    admin.importSecretKey(channel.channelId, owner.exportSecretKey(channel.channelId)!);
    return { owner, admin, channel };
  }

  it('an admin posts a photo; anyone signed in reads it from a public channel; only admins upload', async () => {
    const { admin, channel } = await channelWithAdmin('photos', 'public');
    const reader = clientOf(dave);
    await reader.subscribe({ name: channel.name });
    const photo = randomBytes(150_000);
    const posted = await admin.postFile(endpoint(bob), channel.channelId, bytesSource(photo), {
      name: 'sunset.jpg',
      mime: 'image/jpeg',
      width: 640,
      height: 480,
    });

    // Dave's client checks the signature, which covers the blob id, key and digest, then decrypts.
    const [post] = (await reader.posts(channel.channelId, 0)).posts;
    const file = channelFileOf(post!);
    expect(file).toEqual(posted.file);
    expect(file).toMatchObject({ name: 'sunset.jpg', mime: 'image/jpeg', width: 640, size: photo.length });
    expect((await readAll(downloadDecryptedFile(endpoint(dave), file!))).equals(photo)).toBe(true);
    // A public channel's posts are readable by any signed-in account, and so is their media.
    expect((await readAll(downloadDecryptedFile(endpoint(carol), file!))).equals(photo)).toBe(true);

    // Carol is no admin: the server refuses her upload to the channel, whatever her client does.
    expect(
      await failure(
        uploadEncryptedChannelFile(endpoint(carol), channel.channelId, bytesSource(randomBytes(10))),
      ),
    ).toBe('CHANNEL_NOT_ADMIN');
    expect(
      await failure(
        clientOf(carol).postFile(endpoint(carol), channel.channelId, bytesSource(photo), {
          name: 'x',
          mime: 'image/jpeg',
        }),
      ),
    ).toBe('CHANNEL_NOT_ADMIN');

    // A blob uploaded and not posted yet is the admins' only.
    const draft = describeUpload(
      await uploadEncryptedChannelFile(endpoint(alice), channel.channelId, bytesSource(randomBytes(3000))),
      'draft.bin',
      'application/octet-stream',
    );
    expect(await failure(readAll(downloadDecryptedFile(endpoint(dave), draft)))).toBe('MEDIA_NOT_FOUND');
    expect((await readAll(downloadDecryptedFile(endpoint(bob), draft))).length).toBe(3000);
  });

  it('a post of a file goes on after a restart (onStarted, resume) and is made once, however often retried', async () => {
    const { admin, channel } = await channelWithAdmin('resumed', 'public');
    const reader = clientOf(dave);
    await reader.subscribe({ name: channel.name });
    const bytes = randomBytes(3 * 1024 * 1024);
    const cipherSize = mediaCiphertextSize(bytes.length);
    const requestBytes = 4 * MEDIA_CHUNK_CIPHERTEXT_BYTES;
    // What a device keeps before it starts: the key, the post id and the post's time.
    const kept = { key: generateFileKey(), postId: newChannelPostId(), sentAtMs: clock.now() };
    const describe = { name: 'long.bin', mime: 'application/octet-stream' };
    let started: { uploadUrl: string; key: Uint8Array } | undefined;
    const stop = new AbortController();
    // The first run stops (a reload) once a third of the file is on the server.
    expect(
      await failure(
        admin.postFile(endpoint(bob), channel.channelId, bytesSource(bytes), describe, {
          ...kept,
          requestBytes,
          signal: stop.signal,
          onStarted: (s) => {
            started = s;
          },
          onProgress: (sent) => {
            if (sent >= cipherSize / 3) stop.abort();
          },
        }),
      ),
    ).toBe('MEDIA_CANCELLED');
    expect(started).toBeDefined();
    expect(Buffer.from(started!.key).equals(Buffer.from(kept.key))).toBe(true);
    const blobId = new URL(started!.uploadUrl).pathname.split('/').at(-1)!;
    const held = (await server.app.media.blobs.storedBytes(blobId)) ?? 0;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(cipherSize);
    expect((await reader.posts(channel.channelId, 0)).posts).toHaveLength(0);

    // The next run resumes from the server's offset: the first progress it reports is past zero.
    const resumedFrom: number[] = [];
    const posted = await admin.postFile(endpoint(bob), channel.channelId, bytesSource(bytes), describe, {
      ...kept,
      requestBytes,
      resume: started!,
      onProgress: (sent) => resumedFrom.push(sent),
    });
    expect(resumedFrom[0]).toBeGreaterThanOrEqual(held);
    expect(posted.postId).toBe(kept.postId);
    expect(posted.file.blobId).toBe(blobId);
    expect(await server.app.media.blobs.storedBytes(blobId)).toBe(cipherSize);

    // A run that stopped after the post but before forgetting it posts again: the same post comes back.
    const again = await admin.postFile(endpoint(bob), channel.channelId, bytesSource(bytes), describe, {
      ...kept,
      resume: started!,
    });
    expect(again).toMatchObject({ postId: posted.postId, seq: posted.seq });
    const posts = (await reader.posts(channel.channelId, 0)).posts;
    expect(posts).toHaveLength(1);
    const file = channelFileOf(posts[0]!);
    expect(file).toEqual(posted.file);
    expect((await readAll(downloadDecryptedFile(endpoint(dave), file!))).equals(bytes)).toBe(true);
  });

  it("a private channel's media is for its subscribers; a post carries only its own channel's free blob", async () => {
    const { owner, admin, channel } = await channelWithAdmin('secret', 'private');
    const invite = await owner.createInvite(channel.channelId);
    await clientOf(dave).subscribe({ invite: invite.token });
    const posted = await admin.postFile(endpoint(bob), channel.channelId, bytesSource(randomBytes(2000)), {
      name: 'memo.pdf',
      mime: 'application/pdf',
    });
    expect((await readAll(downloadDecryptedFile(endpoint(dave), posted.file))).length).toBe(2000);
    expect(await failure(readAll(downloadDecryptedFile(endpoint(carol), posted.file)))).toBe(
      'MEDIA_NOT_FOUND',
    );
    // Carol cannot even learn the private channel is there by uploading to it.
    expect(
      await failure(
        uploadEncryptedChannelFile(endpoint(carol), channel.channelId, bytesSource(randomBytes(10))),
      ),
    ).toBe('CHANNEL_NOT_FOUND');

    // The same blob in a second post, a chat's blob, another channel's blob: all refused.
    const again = { v: 1 as const, type: 'file' as const, file: posted.file, sentAtMs: 1 };
    expect(await failure(admin.post(channel.channelId, again))).toBe('CHANNEL_POST_INVALID');
    const chat = await bob.http.createGroup('chat', [alice.accountId]);
    const chatFile = describeUpload(
      await uploadEncryptedFile(endpoint(bob), chat.groupId, bytesSource(randomBytes(100))),
      'c',
      'text/plain',
    );
    expect(await failure(admin.post(channel.channelId, { ...again, file: chatFile }))).toBe(
      'CHANNEL_POST_INVALID',
    );
    const other = await channelWithAdmin('other', 'public');
    const otherFile = describeUpload(
      await uploadEncryptedChannelFile(endpoint(bob), other.channel.channelId, bytesSource(randomBytes(100))),
      'o',
      'text/plain',
    );
    expect(await failure(admin.post(channel.channelId, { ...again, file: otherFile }))).toBe(
      'CHANNEL_POST_INVALID',
    );
    // An upload still running is no file to post.
    const started = await fetch(new URL(MEDIA_UPLOAD_PATH, server.url), {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        authorization: `Bearer ${bob.token}`,
        'upload-length': '1016',
        'upload-metadata': `channelId ${Buffer.from(channel.channelId).toString('base64')}`,
      },
    });
    expect(started.status).toBe(201);
    const unfinished = started.headers.get('location')!.split('/').at(-1)!;
    expect(
      await failure(admin.post(channel.channelId, { ...again, file: { ...otherFile, blobId: unfinished } })),
    ).toBe('CHANNEL_POST_INVALID');
  });

  it('deletes a blob with its post, on an edit to another file, with its channel and past the TTL unposted', async () => {
    const { app } = server;
    const gone = async (blobId: string) =>
      (await app.storage.mediaBlobs.byId(blobId)) === undefined &&
      (await app.storage.channelMedia.byBlob(blobId)) === undefined &&
      (await app.media.blobs.storedBytes(blobId)) === undefined;
    const { owner, admin, channel } = await channelWithAdmin('lifecycle', 'public');
    const upload = (n: number) =>
      admin.postFile(endpoint(bob), channel.channelId, bytesSource(randomBytes(n)), {
        name: 'f',
        mime: 'text/plain',
      });

    const deleted = await upload(100);
    await admin.delete(channel.channelId, deleted.postId, deleted.revision);
    expect(await gone(deleted.file.blobId)).toBe(true);

    const edited = await upload(200);
    const replacement = describeUpload(
      await uploadEncryptedChannelFile(endpoint(bob), channel.channelId, bytesSource(randomBytes(300))),
      'g',
      'text/plain',
    );
    await admin.edit(channel.channelId, edited.postId, edited.revision, {
      v: 1,
      type: 'file',
      file: replacement,
      sentAtMs: 2,
    });
    expect(await gone(edited.file.blobId)).toBe(true);
    expect(await app.storage.channelMedia.byBlob(replacement.blobId)).toMatchObject({
      postId: edited.postId,
    });
    // An edit that keeps the file keeps the blob.
    await admin.edit(channel.channelId, edited.postId, edited.revision + 1, {
      v: 1,
      type: 'file',
      file: { ...replacement, name: 'renamed' },
      sentAtMs: 3,
    });
    expect(await app.media.blobs.storedBytes(replacement.blobId)).toBeGreaterThan(0);

    // Past the blob TTL: a posted blob stays (its post decides), one never posted goes.
    const unposted = await uploadEncryptedChannelFile(
      endpoint(alice),
      channel.channelId,
      bytesSource(randomBytes(50)),
    );
    clock.advance(25 * HOUR);
    await app.retention.run();
    expect(await gone(unposted.blobId)).toBe(true);
    expect(await app.media.blobs.storedBytes(replacement.blobId)).toBeGreaterThan(0);

    await owner.deleteChannel(channel.channelId);
    expect(await gone(replacement.blobId)).toBe(true);
  });

  it("erasing the owner takes the channel's media, whoever uploaded it", async () => {
    const erin = await server.register(nextPhone());
    const owner = clientOf(erin);
    const channel = await owner.create(`erased_${storage}`, 'Erased', 'public');
    await owner.setAdmin(channel.channelId, bob.accountId, true);
    const admin = clientOf(bob);
    admin.importSecretKey(channel.channelId, owner.exportSecretKey(channel.channelId)!);
    const posted = await admin.postFile(endpoint(bob), channel.channelId, bytesSource(randomBytes(500)), {
      name: 'f',
      mime: 'text/plain',
    });
    await erin.http.deleteAccount(erin.phone);
    expect(await server.app.media.blobs.storedBytes(posted.file.blobId)).toBeUndefined();
    expect(await server.app.storage.mediaBlobs.byId(posted.file.blobId)).toBeUndefined();
    expect(await server.app.storage.channelMedia.byBlob(posted.file.blobId)).toBeUndefined();
  });
});
