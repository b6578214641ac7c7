/**
 * Issue 14, media: the proofs. Resumable upload through a dropped connection, download by another
 * member, tamper detection, one blob for a big group, authorization by chat membership, bad input
 * with typed errors and nothing stored, and the lifecycle (abandoned uploads, retention, erasure,
 * export).
 */
import { createHash, randomBytes } from 'node:crypto';
import { openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MEDIA_CHUNK_CIPHERTEXT_BYTES, MEDIA_UPLOAD_PATH, mediaCiphertextSize } from '@courier/protocol';
import {
  bytesSource,
  DEFAULT_UPLOAD_REQUEST_BYTES,
  describeUpload,
  downloadDecryptedFile,
  type FileDescriptor,
  uploadEncryptedFile,
} from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FsBlobStore } from '../packages/server/src/media/fs/fs-blob-store.ts';
import { collectAccountData } from '../packages/server/src/privacy/export-archive.ts';
import { DEFAULT_PRIVACY } from '../packages/server/src/storage/ports.ts';
import { DropProxy } from './support/drop-proxy.ts';
import {
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  unsafeTestingClock,
} from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { until } from './support/until.ts';
import { failure } from './support/failure.ts';

const MiB = 1024 * 1024;

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const endpoint = (server: { url: string }, user: TestUser) => ({ baseUrl: server.url, token: user.token });
const dirOf = (server: TestServer) => (server.app.media.blobs as FsBlobStore).dir;

/** One raw tus request (what a client that is not the SDK could send). */
async function tus(
  server: TestServer,
  user: TestUser | undefined,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
): Promise<{ status: number; code: string | undefined; headers: Headers }> {
  const response = await fetch(new URL(path, server.url), {
    method,
    headers: {
      'tus-resumable': '1.0.0',
      ...(user ? { authorization: `Bearer ${user.token}` } : {}),
      ...(body ? { 'content-type': 'application/offset+octet-stream' } : {}),
      ...headers,
    },
    ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
  });
  const text = await response.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text).error?.code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code, headers: response.headers };
}

const metadata = (groupId: string) => `groupId ${Buffer.from(groupId).toString('base64')}`;

describe('media: upload, download, integrity, authorization', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { media: { maxFileBytes: 64 * MiB } } });
  });
  afterAll(async () => server?.close());

  it('resumes an upload after a dropped connection (resending less than one request), and another member downloads the same bytes', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const [a, b] = await Promise.all([secureDevice(server, alice), secureDevice(server, bob)]);
    try {
      const group = await a.client.createGroup('holiday', [bob.accountId]);
      await b.joined(group.groupId);
      const file = randomBytes(24 * MiB + 12_345);
      const cipherSize = mediaCiphertextSize(file.length);
      const port = Number(new URL(server.url).port);
      const proxy = new DropProxy({ host: '127.0.0.1', port });
      await proxy.start();
      try {
        proxy.dropAfter(11 * MiB);
        let progressed = 0;
        const uploaded = await uploadEncryptedFile(
          { baseUrl: proxy.url, token: alice.token },
          group.groupId,
          bytesSource(file),
          { onProgress: (sent) => (progressed = Math.max(progressed, sent)), retryDelays: [0, 50, 100, 200] },
        );
        expect(proxy.drops).toBe(1);
        expect(progressed).toBe(cipherSize);
        // Every byte that crossed the proxy beyond the ciphertext once: resent after the drop, plus
        // the HTTP heads of the requests. Less than one request's window, so the upload resumed.
        const sentTwice = proxy.upstreamBytes - cipherSize;
        expect(sentTwice).toBeGreaterThanOrEqual(0);
        expect(sentTwice, `bytes sent twice: ${sentTwice}`).toBeLessThan(DEFAULT_UPLOAD_REQUEST_BYTES);
        console.info(
          `dropped after ${proxy.droppedAt} upstream bytes; ${cipherSize} bytes of ciphertext; ${proxy.upstreamBytes} crossed the proxy: ${sentTwice} sent twice (HTTP heads included), window ${DEFAULT_UPLOAD_REQUEST_BYTES}`,
        );
        expect(await server.app.media.blobs.storedBytes(uploaded.blobId)).toBe(cipherSize);

        const descriptor = describeUpload(uploaded, 'holiday.mp4', 'video/mp4');
        await a.client.sendFile(group.groupId, {
          ...descriptor,
          width: 1280,
          height: 720,
          durationMs: 61_000,
        });
        const [message] = await b.waitFor(group.groupId, 1);
        expect(message?.file).toMatchObject({
          name: 'holiday.mp4',
          mime: 'video/mp4',
          size: file.length,
          durationMs: 61_000,
        });
        let received = 0;
        const got = await readAll(
          downloadDecryptedFile(endpoint(server, bob), message!.file!, { onProgress: (n) => (received = n) }),
        );
        expect(sha(got)).toBe(sha(file));
        expect(received).toBe(file.length);
        // Seeking: a range in the middle, across chunk boundaries, decrypts on its own.
        const start = 5 * MiB + 17;
        const part = await readAll(
          downloadDecryptedFile(endpoint(server, bob), message!.file!, {
            range: { start, end: start + 200_000 },
          }),
        );
        expect(part.equals(file.subarray(start, start + 200_000))).toBe(true);
      } finally {
        await proxy.stop();
      }
    } finally {
      await Promise.all([a.client.stop(), b.client.stop()]);
    }
  });

  it('resumes a download after a dropped connection from the next chunk, and the bytes are identical', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('download drop', [bob.accountId]);
    const file = randomBytes(6 * MiB + 3);
    const d = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(file)),
      'd.bin',
      'application/octet-stream',
    );
    const proxy = new DropProxy({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
    await proxy.start();
    try {
      proxy.dropDownstreamAfter(3 * MiB);
      const got = await readAll(
        downloadDecryptedFile({ baseUrl: proxy.url, token: bob.token }, d, { retryDelayMs: 10 }),
      );
      expect(proxy.drops).toBe(1);
      expect(got.equals(file)).toBe(true);
      // Resumed from the chunk where it broke off: far less than the file came twice.
      expect(proxy.downstreamBytes - mediaCiphertextSize(file.length)).toBeLessThan(MiB);
    } finally {
      await proxy.stop();
    }
  });

  it('detects a flipped byte, and a cut-off tail, in the stored blob with MEDIA_INTEGRITY_FAILED', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('tamper', [bob.accountId]);
    const file = randomBytes(300_000);
    const flipped = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(file)),
      'a.bin',
      'application/octet-stream',
    );
    const fd = openSync(join(dirOf(server), flipped.blobId), 'r+');
    const at = MEDIA_CHUNK_CIPHERTEXT_BYTES + 100;
    const byte = readFileSync(join(dirOf(server), flipped.blobId))[at]!;
    writeSync(fd, Buffer.from([byte ^ 0x01]), 0, 1, at);
    expect(await failure(readAll(downloadDecryptedFile(endpoint(server, bob), flipped)))).toBe(
      'MEDIA_INTEGRITY_FAILED',
    );
    // A range before the damage still reads (each chunk stands alone).
    const head = await readAll(
      downloadDecryptedFile(endpoint(server, bob), flipped, { range: { start: 0, end: 1000 } }),
    );
    expect(head.equals(file.subarray(0, 1000))).toBe(true);

    const cut = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(file)),
      'b.bin',
      'application/octet-stream',
    );
    truncateSync(join(dirOf(server), cut.blobId), 2 * MEDIA_CHUNK_CIPHERTEXT_BYTES);
    // The server cuts the reply short rather than hang; the SDK retries, then gives up.
    expect(
      await failure(readAll(downloadDecryptedFile(endpoint(server, bob), cut, { retryDelayMs: 10 }))),
    ).toBe('SERVER_UNAVAILABLE');
  });

  it('lets only current members of the chat fetch a blob: its id alone opens nothing', async () => {
    const [alice, bob, eve] = await Promise.all([0, 1, 2].map(() => server.register(nextPhone())));
    const group = await alice!.http.createGroup('private', [bob!.accountId]);
    const evesChat = await eve!.http.createGroup('eve', [alice!.accountId]);
    const file = randomBytes(1000);
    const d = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice!), group.groupId, bytesSource(file)),
      'x',
      'text/plain',
    );
    expect((await readAll(downloadDecryptedFile(endpoint(server, bob!), d))).equals(file)).toBe(true);
    // Eve shares another chat with Alice and knows the blob id and key: still nothing.
    expect(await failure(readAll(downloadDecryptedFile(endpoint(server, eve!), d)))).toBe('MEDIA_NOT_FOUND');
    const raw = await fetch(new URL(`/v1/media/${d.blobId}`, server.url), {
      headers: { authorization: `Bearer ${eve!.token}` },
    });
    expect([raw.status, (await raw.json()).error.code]).toEqual([404, 'MEDIA_NOT_FOUND']);
    const anonymous = await fetch(new URL(`/v1/media/${d.blobId}`, server.url));
    expect(anonymous.status).toBe(401);
    // Eve cannot upload into a chat she is not in (nothing is stored), nor continue Alice's upload.
    const before = await server.app.media.blobs.list();
    const post = await tus(server, eve, 'POST', MEDIA_UPLOAD_PATH, {
      'upload-length': '1000',
      'upload-metadata': metadata(group.groupId),
    });
    expect([post.status, post.code]).toEqual([404, 'GROUP_NOT_FOUND']);
    const started = await tus(server, alice, 'POST', MEDIA_UPLOAD_PATH, {
      'upload-length': '1016',
      'upload-metadata': metadata(evesChat.groupId),
    });
    expect(started.status).toBe(201);
    const location = started.headers.get('location')!;
    const head = await tus(server, eve, 'HEAD', location);
    expect(head.status).toBe(404);
    const patch = await tus(server, eve, 'PATCH', location, { 'upload-offset': '0' }, new Uint8Array(1016));
    expect([patch.status, patch.code]).toEqual([404, 'MEDIA_UPLOAD_NOT_FOUND']);
    expect(await server.app.media.blobs.storedBytes(location.split('/').at(-1)!)).toBe(0);
    expect((await server.app.media.blobs.list()).length).toBe(before.length + 1);
    // Bob leaves: from then on the blob is closed to him too.
    await bob!.http.leave(group.groupId);
    expect(await failure(readAll(downloadDecryptedFile(endpoint(server, bob!), d)))).toBe('MEDIA_NOT_FOUND');
  });

  it('refuses bad input with typed errors and stores nothing it should not', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('bad input', [bob.accountId]);
    const rows = async () => (await server.app.storage.mediaBlobs.byAccount(alice.accountId)).length;
    const post = (headers: Record<string, string>) => tus(server, alice, 'POST', MEDIA_UPLOAD_PATH, headers);
    // Over the limit (64 MiB of plaintext here).
    const tooBig = await post({
      'upload-length': String(mediaCiphertextSize(64 * MiB + 1)),
      'upload-metadata': metadata(group.groupId),
    });
    expect([tooBig.status, tooBig.code]).toEqual([413, 'MEDIA_TOO_LARGE']);
    // A length no file encrypts to, and a length left for later.
    const odd = await post({
      'upload-length': String(MEDIA_CHUNK_CIPHERTEXT_BYTES + 5),
      'upload-metadata': metadata(group.groupId),
    });
    expect([odd.status, odd.code]).toEqual([400, 'MEDIA_LENGTH_INVALID']);
    const deferred = await post({ 'upload-defer-length': '1', 'upload-metadata': metadata(group.groupId) });
    expect(deferred.code).toBe('MEDIA_LENGTH_INVALID');
    const noChat = await post({ 'upload-length': '1016' });
    expect(noChat.code).toBe('REQ_INVALID');
    expect(await rows()).toBe(0);
    // Unknown upload ids.
    const unknown = await tus(
      server,
      alice,
      'PATCH',
      `${MEDIA_UPLOAD_PATH}/${'ab'.repeat(16)}`,
      { 'upload-offset': '0' },
      new Uint8Array(16),
    );
    expect([unknown.status, unknown.code]).toEqual([404, 'MEDIA_UPLOAD_NOT_FOUND']);
    const notAnId = await tus(server, alice, 'HEAD', `${MEDIA_UPLOAD_PATH}/..%2F..%2Fcourier.db`);
    expect(notAnId.status).toBe(404);
    // Wrong offsets: the stored bytes do not change.
    const started = await post({ 'upload-length': '1016', 'upload-metadata': metadata(group.groupId) });
    const location = started.headers.get('location')!;
    const first = await tus(server, alice, 'PATCH', location, { 'upload-offset': '0' }, new Uint8Array(500));
    expect(first.headers.get('upload-offset')).toBe('500');
    const wrong = await tus(
      server,
      alice,
      'PATCH',
      location,
      { 'upload-offset': '400' },
      new Uint8Array(100),
    );
    expect([wrong.status, wrong.code]).toEqual([409, 'MEDIA_OFFSET_MISMATCH']);
    const ahead = await tus(
      server,
      alice,
      'PATCH',
      location,
      { 'upload-offset': '600' },
      new Uint8Array(100),
    );
    expect(ahead.code).toBe('MEDIA_OFFSET_MISMATCH');
    expect(await server.app.media.blobs.storedBytes(location.split('/').at(-1)!)).toBe(500);
    // Past the declared length.
    const past = await tus(server, alice, 'PATCH', location, { 'upload-offset': '500' }, new Uint8Array(600));
    expect(past.status).toBeGreaterThanOrEqual(400);
    expect(await server.app.media.blobs.storedBytes(location.split('/').at(-1)!)).toBe(500);
    // An unfinished blob is not served; a range outside a finished one is 416.
    const unfinished = await fetch(new URL(`/v1/media/${location.split('/').at(-1)}`, server.url), {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(unfinished.status).toBe(404);
    const d = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(randomBytes(10))),
      'x',
      'text/plain',
    );
    const outside = await fetch(new URL(`/v1/media/${d.blobId}`, server.url), {
      headers: { authorization: `Bearer ${bob.token}`, range: 'bytes=100-200' },
    });
    expect([outside.status, (await outside.json()).error.code]).toEqual([416, 'MEDIA_RANGE_INVALID']);
    // Truncated ciphertext as the client sees it: a descriptor naming a longer file than was sent.
    const longer: FileDescriptor = { ...d, size: d.size + 100 };
    expect(await failure(readAll(downloadDecryptedFile(endpoint(server, bob), longer)))).toBe(
      'MEDIA_INTEGRITY_FAILED',
    );
  });
});

describe('media: one blob for a big group', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { groups: { memberCap: 5000 } } });
  });
  afterAll(async () => server?.close());

  it('stores a photo sent to a 1,000-member group once, and members fetch it', async () => {
    const [alice, bob, carol] = await Promise.all([0, 1, 2].map(() => server.register(nextPhone())));
    const group = await alice!.http.createGroup('big', [bob!.accountId, carol!.accountId]);
    // 997 more members at roster level (their devices are not needed to show the blob is shared).
    const { storage } = server.app;
    const now = Date.now();
    const extra = Array.from({ length: 997 }, (_, i) => `u_media_${i}_${randomBytes(4).toString('hex')}`);
    for (const [i, id] of extra.entries())
      await storage.accounts.insert({
        id,
        phone: `+4420${String(7_000_000 + i).padStart(8, '0')}${Math.floor(Math.random() * 9)}`.slice(0, 13),
        username: null,
        displayName: `m${i}`,
        createdAt: now,
        lastSeenDay: null,
        privacy: DEFAULT_PRIVACY,
      });
    await storage.groups.insertMembers(
      extra.map((accountId) => ({
        groupId: group.groupId,
        accountId,
        role: 'member' as const,
        joinedAt: now,
        joinedSeq: 0,
        consent: 'accepted' as const,
      })),
    );
    await storage.groups.adjustMemberCount(group.groupId, extra.length);
    expect((await storage.groups.members(group.groupId)).length).toBe(1000);

    const photo = randomBytes(180_000);
    const before = (await server.app.media.blobs.list()).length;
    const d = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice!), group.groupId, bytesSource(photo)),
      'photo.jpg',
      'image/jpeg',
    );
    for (const member of [bob!, carol!])
      expect((await readAll(downloadDecryptedFile(endpoint(server, member), d))).equals(photo)).toBe(true);
    expect(await storage.mediaBlobs.countInGroup(group.groupId)).toBe(1);
    expect((await server.app.media.blobs.list()).length).toBe(before + 1);
  });
});

describe('media: limits and lifecycle', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 5, 1));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      clock,
      config: {
        media: {
          maxFileBytes: MiB,
          quotaBytesPerAccount: 3 * MiB,
          uploadsPerWindow: 6,
          uploadWindowMs: 60_000,
          incompleteUploadTtlMs: 3_600_000,
          blobTtlMs: 24 * 3_600_000,
        },
      },
    });
  });
  afterAll(async () => server?.close());

  it('enforces the per-account quota and upload rate with typed errors', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('limits', [bob.accountId]);
    const size = String(mediaCiphertextSize(MiB));
    const post = (user: TestUser) =>
      tus(server, user, 'POST', MEDIA_UPLOAD_PATH, {
        'upload-length': size,
        'upload-metadata': metadata(group.groupId),
      });
    for (let i = 0; i < 2; i++) expect((await post(alice)).status).toBe(201);
    const over = await post(alice);
    expect([over.status, over.code]).toEqual([413, 'MEDIA_QUOTA_EXCEEDED']);
    expect((await server.app.storage.mediaBlobs.byAccount(alice.accountId)).length).toBe(2);
    // Bob's own quota is untouched; his rate is 6 uploads a minute.
    const small = () =>
      tus(server, bob, 'POST', MEDIA_UPLOAD_PATH, {
        'upload-length': '16',
        'upload-metadata': metadata(group.groupId),
      });
    for (let i = 0; i < 6; i++) expect((await small()).status).toBe(201);
    const limited = await small();
    expect([limited.status, limited.code]).toEqual([429, 'MEDIA_RATE_LIMITED']);
    clock.advance(61_000);
    expect((await small()).status).toBe(201);
  });

  it('deletes abandoned uploads, and blobs no retained message can point at; erasure and export cover blobs', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('lifecycle', [bob.accountId]);
    const { storage, media } = server.app;
    const abandoned = await tus(server, alice, 'POST', MEDIA_UPLOAD_PATH, {
      'upload-length': '1016',
      'upload-metadata': metadata(group.groupId),
    });
    const abandonedId = abandoned.headers.get('location')!.split('/').at(-1)!;
    const kept = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(randomBytes(5000))),
      'k',
      'text/plain',
    );
    // A message in the chat after the upload keeps the blob while the log holds it.
    await storage.entries.insert([
      {
        groupId: group.groupId,
        seq: 1_000_000,
        kind: 'message',
        senderAccountId: alice.accountId,
        senderDeviceId: alice.deviceId,
        clientMsgId: `m-${randomBytes(6).toString('hex')}`,
        payload: new Uint8Array([1]),
        createdAt: clock.now(),
      },
    ]);
    clock.advance(2 * 3_600_000);
    let report = await server.app.retention.run();
    expect(report.mediaUploads).toBeGreaterThanOrEqual(1);
    expect(await storage.mediaBlobs.byId(abandonedId)).toBeUndefined();
    expect(await media.blobs.storedBytes(abandonedId)).toBeUndefined();
    expect(await storage.mediaBlobs.byId(kept.blobId)).toBeDefined();
    // Past the blob TTL, still kept: the log holds an entry from its upload time on.
    clock.advance(25 * 3_600_000);
    await server.app.retention.run();
    expect(await storage.mediaBlobs.byId(kept.blobId)).toBeDefined();

    // Export lists the blob's metadata (no key, no name: the server has neither).
    const exported = await collectAccountData(storage, alice.accountId, clock.now(), 'v');
    expect(exported.mediaUploads).toEqual([
      expect.objectContaining({
        blobId: kept.blobId,
        chatId: group.groupId,
        bytes: mediaCiphertextSize(5000),
      }),
    ]);
    expect(JSON.stringify(exported.mediaUploads)).not.toContain(kept.key);

    // The entry is pruned (past the log TTL): no retained message can point at the blob now.
    clock.advance(31 * 24 * 3_600_000);
    report = await server.app.retention.run();
    expect(report.mediaBlobs).toBeGreaterThanOrEqual(1);
    expect(await storage.mediaBlobs.byId(kept.blobId)).toBeUndefined();
    expect(await media.blobs.storedBytes(kept.blobId)).toBeUndefined();
  });

  it('erases the blobs an account uploaded when the account is deleted', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('erasure', [bob.accountId]);
    const d = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(randomBytes(2000))),
      'e',
      'text/plain',
    );
    const bobs = describeUpload(
      await uploadEncryptedFile(endpoint(server, bob), group.groupId, bytesSource(randomBytes(2000))),
      'f',
      'text/plain',
    );
    await alice.http.deleteAccount(alice.phone);
    expect(await server.app.storage.mediaBlobs.byAccount(alice.accountId)).toEqual([]);
    expect(await server.app.media.blobs.storedBytes(d.blobId)).toBeUndefined();
    expect(await failure(readAll(downloadDecryptedFile(endpoint(server, bob), d)))).toBe('MEDIA_NOT_FOUND');
    // Bob's own upload to the same chat stays.
    expect(await server.app.media.blobs.storedBytes(bobs.blobId)).toBe(mediaCiphertextSize(2000));
  });
});

describe('media: cancel, resume after a restart, terminate', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('cancels an upload with a typed error, resumes it later from where it stopped with the same key, and cancels a download', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('resume', [bob.accountId]);
    const file = randomBytes(20 * MiB);
    const controller = new AbortController();
    let started: { uploadUrl: string; key: Uint8Array } | undefined;
    const cancelled = uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(file), {
      signal: controller.signal,
      onStarted: (s) => (started = s),
      onProgress: (sent) => {
        if (sent > 9 * MiB) controller.abort();
      },
    });
    expect(await failure(cancelled)).toBe('MEDIA_CANCELLED');
    const blobId = started!.uploadUrl.split('/').at(-1)!;
    const stored = (await server.app.media.blobs.storedBytes(blobId))!;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(mediaCiphertextSize(file.length));
    // As after a restart: a new call with the URL and key kept from onStarted.
    let firstProgress: number | undefined;
    const resumed = await uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(file), {
      resume: started!,
      onProgress: (sent) => (firstProgress ??= sent),
    });
    expect(resumed.blobId).toBe(blobId);
    expect(firstProgress!).toBeGreaterThanOrEqual(stored);
    const d = describeUpload(resumed, 'r.bin', 'application/octet-stream');
    expect(sha(await readAll(downloadDecryptedFile(endpoint(server, bob), d)))).toBe(sha(file));

    const stop = new AbortController();
    const reading = readAll(
      downloadDecryptedFile(endpoint(server, bob), d, {
        signal: stop.signal,
        onProgress: (n) => {
          if (n > MiB) stop.abort();
        },
      }),
    );
    expect(await failure(reading)).toBe('MEDIA_CANCELLED');
  });

  it('lets the uploader abandon an unfinished upload (its record goes too), never a finished blob', async () => {
    const [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const group = await alice.http.createGroup('terminate', [bob.accountId]);
    const created = await tus(server, alice, 'POST', MEDIA_UPLOAD_PATH, {
      'upload-length': '1016',
      'upload-metadata': metadata(group.groupId),
    });
    const location = created.headers.get('location')!;
    expect((await tus(server, alice, 'DELETE', location)).status).toBe(204);
    expect(await server.app.media.blobs.storedBytes(location.split('/').at(-1)!)).toBeUndefined();
    await until(
      async () => (await server.app.storage.mediaBlobs.byAccount(alice.accountId)).length === 0,
      'the record of the abandoned upload to go',
      5_000,
    );
    const d = describeUpload(
      await uploadEncryptedFile(endpoint(server, alice), group.groupId, bytesSource(randomBytes(100))),
      'x',
      'text/plain',
    );
    const refused = await tus(server, alice, 'DELETE', `${MEDIA_UPLOAD_PATH}/${d.blobId}`);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect((await readAll(downloadDecryptedFile(endpoint(server, bob), d))).length).toBe(100);
  });
});
