/**
 * Issue 14, forward of a file: the forwarder binds the same blob to the target chat (a grant, no
 * second copy of the ciphertext) and sends pointer, key, digest and preview again inside the target
 * chat's MLS. Members of the target then fetch the blob; nobody else can bind it; retention, export
 * and erasure consider every chat a blob is bound to.
 */
import { createHash, randomBytes } from 'node:crypto';
import { encodeBase64, mediaCiphertextSize } from '@courier/protocol';
import { bytesSource, describeUpload, downloadDecryptedFile, uploadEncryptedFile } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectAccountData } from '../packages/server/src/privacy/export-archive.ts';
import {
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  unsafeTestingClock,
} from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { failure } from './support/failure.ts';

const HOUR = 3_600_000;

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const endpoint = (server: { url: string }, user: TestUser) => ({ baseUrl: server.url, token: user.token });

/** The grant request as any client could send it: status and error code. */
async function grant(
  server: TestServer,
  user: TestUser,
  blobId: string,
  body: unknown,
): Promise<{ status: number; code?: string; reply: Record<string, unknown> }> {
  const response = await fetch(new URL(`/v1/media/${blobId}/chats`, server.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const reply = (await response.json()) as Record<string, unknown>;
  const code = (reply.error as { code?: string } | undefined)?.code;
  return { status: response.status, ...(code ? { code } : {}), reply };
}

describe('media: forward a file to another chat', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('forwards a photo: one blob, bound to the target chat, whose member gets pointer, key, digest and preview and downloads the same bytes', async () => {
    const [alice, bob, carol] = await Promise.all([0, 1, 2].map(() => server.register(nextPhone())));
    const [a, b, c] = await Promise.all([alice!, bob!, carol!].map((u) => secureDevice(server, u)));
    try {
      const holiday = await a!.client.createGroup('holiday', [bob!.accountId]);
      const family = await b!.client.createGroup('family', [carol!.accountId]);
      await Promise.all([b!.joined(holiday.groupId), c!.joined(family.groupId)]);
      const photo = randomBytes(700_000);
      const preview = { mime: 'image/webp', data: encodeBase64(randomBytes(2000)) };
      const uploaded = await uploadEncryptedFile(
        endpoint(server, alice!),
        holiday.groupId,
        bytesSource(photo),
      );
      const descriptor = {
        ...describeUpload(uploaded, 'beach.jpg', 'image/jpeg'),
        width: 1600,
        height: 900,
        preview,
      };
      await a!.client.sendFile(holiday.groupId, descriptor);
      const [original] = await b!.waitFor(holiday.groupId, 1);
      expect(original?.file).toEqual(descriptor);
      // Before the forward, Carol (not in the holiday chat) cannot fetch it even with the key.
      expect(await failure(readAll(downloadDecryptedFile(endpoint(server, carol!), descriptor)))).toBe(
        'MEDIA_NOT_FOUND',
      );
      const blobsBefore = (await server.app.media.blobs.list()).length;

      const accepted = await b!.client.forward(holiday.groupId, original!, family.groupId);
      expect(accepted.seq).toBeGreaterThan(0);
      const [forwarded] = await c!.waitFor(family.groupId, 1);
      expect(forwarded).toMatchObject({
        senderAccountId: bob!.accountId,
        text: '',
        file: descriptor,
        forwarded: { accountId: alice!.accountId, sentAtMs: original!.sentAtMs },
      });
      // The forwarder's own history shows the same.
      const own = await b!.client.findMessage(family.groupId, accepted.seq);
      expect(own.file).toEqual(descriptor);
      expect(own.forwarded?.accountId).toBe(alice!.accountId);

      const got = await readAll(downloadDecryptedFile(endpoint(server, carol!), forwarded!.file!));
      expect(sha(got)).toBe(sha(photo));
      // No bytes were copied: the same single blob, now bound to both chats.
      expect((await server.app.media.blobs.list()).length).toBe(blobsBefore);
      expect((await server.app.storage.mediaBlobs.grantsOf(uploaded.blobId)).map((g) => g.groupId)).toEqual([
        family.groupId,
      ]);
      // A file is never edited, forwarded or not.
      expect(await failure(b!.client.edit(family.groupId, own, 'x'))).toBe('MSG_NOT_ACTIONABLE');

      // Forwarded again from the family chat to a third chat: the chain keeps the first author.
      const third = await c!.client.createGroup('friends', [alice!.accountId]);
      await a!.joined(third.groupId);
      await c!.client.forward(family.groupId, forwarded!, third.groupId);
      const [again] = await a!.waitFor(third.groupId, 1);
      expect(again).toMatchObject({ file: descriptor, forwarded: { accountId: alice!.accountId } });
      expect((await server.app.storage.mediaBlobs.grantsOf(uploaded.blobId)).length).toBe(2);
    } finally {
      await Promise.all([a!.client.stop(), b!.client.stop(), c!.client.stop()]);
    }
  });

  it('refuses a grant by a non-member of every chat the blob is bound to, into a chat the caller is not in, and of unknown or unfinished blobs: typed errors, nothing bound', async () => {
    const [alice, bob, mallory] = await Promise.all([0, 1, 2].map(() => server.register(nextPhone())));
    const home = await alice!.http.createGroup('home', [bob!.accountId]);
    const mallorys = await mallory!.http.createGroup('mallory and bob', [bob!.accountId]);
    const strangers = await mallory!.http.createGroup('mallory alone', []);
    const file = randomBytes(5000);
    const d = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice!), home.groupId, bytesSource(file)),
      'secret.pdf',
      'application/pdf',
    );
    // Mallory knows the blob id (and even the key) and shares a chat with Bob: she cannot bind it.
    expect(await grant(server, mallory!, d.blobId, { chatId: mallorys.groupId })).toMatchObject({
      status: 404,
      code: 'MEDIA_NOT_FOUND',
    });
    expect(await failure(mallory!.http.grantMedia(d.blobId, mallorys.groupId))).toBe('MEDIA_NOT_FOUND');
    expect(await failure(readAll(downloadDecryptedFile(endpoint(server, mallory!), d)))).toBe(
      'MEDIA_NOT_FOUND',
    );
    // Bob is in the blob's chat but not in Mallory's lone chat: GROUP_NOT_FOUND.
    expect(await grant(server, bob!, d.blobId, { chatId: strangers.groupId })).toMatchObject({
      status: 404,
      code: 'GROUP_NOT_FOUND',
    });
    // Unknown and malformed blob ids, a malformed body.
    expect((await grant(server, bob!, 'ab'.repeat(16), { chatId: mallorys.groupId })).code).toBe(
      'MEDIA_NOT_FOUND',
    );
    expect((await grant(server, bob!, 'nope', { chatId: mallorys.groupId })).code).toBe('MEDIA_NOT_FOUND');
    expect(await grant(server, bob!, d.blobId, { chatId: mallorys.groupId, extra: 1 })).toMatchObject({
      status: 400,
      code: 'REQ_INVALID',
    });
    // An upload that is not finished cannot be bound anywhere.
    const started = await fetch(new URL('/v1/media/uploads', server.url), {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        authorization: `Bearer ${alice!.token}`,
        'upload-length': '1016',
        'upload-metadata': `groupId ${Buffer.from(home.groupId).toString('base64')}`,
      },
    });
    const unfinished = started.headers.get('location')!.split('/').at(-1)!;
    expect((await grant(server, alice!, unfinished, { chatId: home.groupId })).code).toBe('MEDIA_NOT_FOUND');
    expect(await server.app.storage.mediaBlobs.grantsOf(d.blobId)).toEqual([]);

    // Bob may: then Mallory, as a member of the target, fetches it; granting twice changes nothing.
    expect(await grant(server, bob!, d.blobId, { chatId: mallorys.groupId })).toMatchObject({
      status: 200,
      reply: { blobId: d.blobId, chatId: mallorys.groupId, granted: true },
    });
    expect((await grant(server, bob!, d.blobId, { chatId: mallorys.groupId })).reply.granted).toBe(false);
    expect((await grant(server, bob!, d.blobId, { chatId: home.groupId })).reply.granted).toBe(false);
    expect((await readAll(downloadDecryptedFile(endpoint(server, mallory!), d))).equals(file)).toBe(true);
    // Bob leaves Mallory's chat: he can no longer bind blobs into it, she still reads it as a member.
    await bob!.http.leave(mallorys.groupId);
    expect((await grant(server, bob!, d.blobId, { chatId: mallorys.groupId })).code).toBe('GROUP_NOT_FOUND');
    expect((await readAll(downloadDecryptedFile(endpoint(server, mallory!), d))).equals(file)).toBe(true);
  });

  it('refuses to forward a file into a chat the forwarder is not in (on the device, and at the server), before anything is bound or sent', async () => {
    const [alice, bob, eve] = await Promise.all([0, 1, 2].map(() => server.register(nextPhone())));
    const [a, b] = await Promise.all([alice!, bob!].map((u) => secureDevice(server, u)));
    try {
      const chat = await a!.client.createGroup('chat', [bob!.accountId]);
      await b!.joined(chat.groupId);
      const evesChat = await eve!.http.createGroup('eve', []);
      const d = describeUpload(
        await uploadEncryptedFile(endpoint(server, alice!), chat.groupId, bytesSource(randomBytes(100))),
        'n.txt',
        'text/plain',
      );
      await a!.client.sendFile(chat.groupId, d);
      const [message] = await b!.waitFor(chat.groupId, 1);
      // Not in its encryption group: refused on the device, before any grant.
      expect(await failure(b!.client.forward(chat.groupId, message!, evesChat.groupId))).toBe(
        'MLS_GROUP_NOT_READY',
      );
      expect(await failure(bob!.http.grantMedia(d.blobId, evesChat.groupId))).toBe('GROUP_NOT_FOUND');
      expect(await server.app.storage.mediaBlobs.grantsOf(d.blobId)).toEqual([]);
    } finally {
      await Promise.all([a!.client.stop(), b!.client.stop()]);
    }
  });
});

describe('media: a forwarded blob through retention, export and erasure', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 6, 1));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ clock, config: { media: { blobTtlMs: 24 * HOUR } } });
  });
  afterAll(async () => server?.close());

  const entry = (groupId: string, user: TestUser) => ({
    groupId,
    seq: 1_000_000,
    kind: 'message' as const,
    senderAccountId: user.accountId,
    senderDeviceId: user.deviceId,
    clientMsgId: `m-${randomBytes(6).toString('hex')}`,
    payload: new Uint8Array([1]),
    createdAt: clock.now(),
  });

  it('keeps a blob while the chat it was forwarded to holds the forward, deletes it once none does, and exports the forward', async () => {
    const [alice, bob, carol] = await Promise.all([0, 1, 2].map(() => server.register(nextPhone())));
    const home = await alice!.http.createGroup('home', [bob!.accountId]);
    const family = await bob!.http.createGroup('family', [carol!.accountId]);
    const { storage, media } = server.app;
    // The chats' creation is in their logs; the uploads come a minute later.
    clock.advance(60_000);
    const upload = async () =>
      describeUpload(
        await uploadEncryptedFile(endpoint(server, alice!), home.groupId, bytesSource(randomBytes(3000))),
        'f',
        'text/plain',
      );
    const forwardedFile = await upload();
    const alone = await upload();
    // Nothing in the home chat after the uploads; an hour later Bob forwards one into the family chat.
    clock.advance(HOUR);
    await bob!.http.grantMedia(forwardedFile.blobId, family.groupId);
    await storage.entries.insert([entry(family.groupId, bob!)]);

    // Past the blob TTL: the blob nobody forwarded goes; the forwarded one stays for the family chat.
    clock.advance(25 * HOUR);
    await server.app.retention.run();
    expect(await storage.mediaBlobs.byId(alone.blobId)).toBeUndefined();
    expect(await media.blobs.storedBytes(alone.blobId)).toBeUndefined();
    expect(await storage.mediaBlobs.byId(forwardedFile.blobId)).toBeDefined();
    expect((await readAll(downloadDecryptedFile(endpoint(server, carol!), forwardedFile))).length).toBe(3000);

    // Bob's export lists his forward (no key: the server has none); Alice's lists her upload.
    const bobs = await collectAccountData(storage, bob!.accountId, clock.now(), 'v');
    expect(bobs.mediaForwards).toEqual([
      {
        blobId: forwardedFile.blobId,
        chatId: family.groupId,
        forwardedAt: new Date(clock.now() - 25 * HOUR).toISOString(),
      },
    ]);
    expect(JSON.stringify(bobs)).not.toContain(forwardedFile.key);
    const alices = await collectAccountData(storage, alice!.accountId, clock.now(), 'v');
    expect(alices.mediaUploads).toEqual([
      expect.objectContaining({ blobId: forwardedFile.blobId, bytes: mediaCiphertextSize(3000) }),
    ]);

    // The family chat's entry is pruned by the log TTL: no retained message can point at the blob.
    clock.advance(31 * 24 * HOUR);
    await server.app.retention.run();
    expect(await storage.mediaBlobs.byId(forwardedFile.blobId)).toBeUndefined();
    expect(await storage.mediaBlobs.grantsOf(forwardedFile.blobId)).toEqual([]);
    expect(await media.blobs.storedBytes(forwardedFile.blobId)).toBeUndefined();
  });

  it("erases a forwarder's grants with the account: the target chat loses the blob, its own chat keeps it", async () => {
    const [alice, bob, carol] = await Promise.all([0, 1, 2].map(() => server.register(nextPhone())));
    const home = await alice!.http.createGroup('home', [bob!.accountId]);
    const family = await bob!.http.createGroup('family', [carol!.accountId]);
    const d = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice!), home.groupId, bytesSource(randomBytes(2000))),
      'g',
      'text/plain',
    );
    await bob!.http.grantMedia(d.blobId, family.groupId);
    expect((await readAll(downloadDecryptedFile(endpoint(server, carol!), d))).length).toBe(2000);
    await bob!.http.deleteAccount(bob!.phone);
    expect(await server.app.storage.mediaBlobs.grantsBy(bob!.accountId)).toEqual([]);
    expect(await failure(readAll(downloadDecryptedFile(endpoint(server, carol!), d)))).toBe(
      'MEDIA_NOT_FOUND',
    );
    expect((await readAll(downloadDecryptedFile(endpoint(server, alice!), d))).length).toBe(2000);
  });
});
