/**
 * The one contract every blob store passes (STYLE.md: one suite per port): the filesystem store, and
 * the S3 store against s3rver running as its own process over HTTP, including two stores (two server
 * nodes) sharing one bucket.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Upload } from '@tus/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3rver, type S3rverProcess } from '../../../../test/support/s3rver-process.ts';
import { FsBlobStore } from './fs/fs-blob-store.ts';
import type { BlobStore } from './ports.ts';
import { S3BlobStore } from './s3/s3-blob-store.ts';

const PIECE = 64 * 1024;

interface Adapter {
  name: string;
  /** A store; `peer` opens a second one over the same backing storage (another node). */
  open(): Promise<{ store: BlobStore; peer: () => BlobStore }>;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const fsAdapter: Adapter = {
  name: 'fs',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'courier-blobs-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return { store: new FsBlobStore(dir), peer: () => new FsBlobStore(dir) };
  },
  async close() {},
};

let s3: S3rverProcess | undefined;
let prefixCounter = 0;
const s3Adapter: Adapter = {
  name: 's3 (s3rver over HTTP)',
  async open() {
    s3 ??= await startS3rver('media-bucket');
    const server = s3;
    prefixCounter += 1;
    const options = {
      bucket: server.bucket,
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      prefix: `t${prefixCounter}/`,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      pieceBytes: PIECE,
    };
    return { store: new S3BlobStore(options), peer: () => new S3BlobStore(options) };
  },
  async close() {
    await s3?.stop();
    s3 = undefined;
  },
};

const id = () => randomBytes(16).toString('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

/** A request body that delivers `bytes` and then breaks off (a dropped connection). */
function breaking(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(bytes);
      } else setTimeout(() => this.destroy(new Error('connection reset')), 100);
    },
  });
}

async function create(store: BlobStore, blobId: string, size: number): Promise<void> {
  await store.uploads.create(new Upload({ id: blobId, size, offset: 0, metadata: { groupId: 'g' } }));
}

describe.each([fsAdapter, s3Adapter])('blob store contract: $name', (adapter) => {
  let store: BlobStore;
  let peer: () => BlobStore;
  beforeAll(async () => {
    ({ store, peer } = await adapter.open());
  }, 30_000);
  afterAll(async () => {
    await store?.close();
    await adapter.close();
  });

  it('stores an upload written in several requests and reads any range back', async () => {
    const blobId = id();
    const bytes = randomBytes(3 * PIECE + 123);
    await create(store, blobId, bytes.length);
    expect((await store.uploads.getUpload(blobId)).offset).toBe(0);
    const first = await store.uploads.write(Readable.from([bytes.subarray(0, 2 * PIECE)]), blobId, 0);
    expect(first).toBe(2 * PIECE);
    const end = await store.uploads.write(Readable.from([bytes.subarray(first)]), blobId, first);
    expect(end).toBe(bytes.length);
    expect(await store.storedBytes(blobId)).toBe(bytes.length);
    expect((await readAll(await store.read(blobId, 0, bytes.length - 1))).equals(bytes)).toBe(true);
    for (const [a, b] of [
      [0, 0],
      [PIECE - 1, PIECE + 1],
      [5, 3 * PIECE + 100],
      [bytes.length - 1, bytes.length - 1],
    ] as const) {
      const got = await readAll(await store.read(blobId, a, b));
      expect([a, b, got.length, got.equals(bytes.subarray(a, b + 1))]).toEqual([a, b, b - a + 1, true]);
    }
    expect(await store.list()).toContain(blobId);
  });

  it('keeps what a broken request delivered and resumes from its offset', async () => {
    const blobId = id();
    const bytes = randomBytes(4 * PIECE);
    await create(store, blobId, bytes.length);
    const delivered = 2 * PIECE + 1000;
    await expect(
      store.uploads.write(breaking(bytes.subarray(0, delivered)), blobId, 0),
    ).rejects.toBeDefined();
    const offset = (await store.uploads.getUpload(blobId)).offset as number;
    // Every byte that arrived before the break is kept (a file store may lose what was still in
    // its write buffer: at most one stream buffer).
    expect(offset).toBeLessThanOrEqual(delivered);
    expect(offset).toBeGreaterThanOrEqual(delivered - 64 * 1024);
    await store.uploads.write(Readable.from([bytes.subarray(offset)]), blobId, offset);
    expect((await readAll(await store.read(blobId, 0, bytes.length - 1))).equals(bytes)).toBe(true);
  });

  it('serves, from a second store on the same storage, what the first one stored (two nodes)', async () => {
    const blobId = id();
    const bytes = randomBytes(PIECE + 7);
    await create(store, blobId, bytes.length);
    await store.uploads.write(Readable.from([bytes]), blobId, 0);
    const other = peer();
    try {
      expect((await other.uploads.getUpload(blobId)).offset).toBe(bytes.length);
      expect(
        (await readAll(await other.read(blobId, 10, PIECE + 3))).equals(bytes.subarray(10, PIECE + 4)),
      ).toBe(true);
      await other.remove(blobId);
      expect(await store.storedBytes(blobId)).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('removes blobs and unfinished uploads, idempotently; unknown ids are not found', async () => {
    const done = id();
    const partial = id();
    await create(store, done, 10);
    await store.uploads.write(Readable.from([randomBytes(10)]), done, 0);
    await create(store, partial, 100);
    await store.remove(done);
    await store.remove(partial);
    await store.remove(done);
    expect(await store.storedBytes(done)).toBeUndefined();
    expect(await store.storedBytes(partial)).toBeUndefined();
    expect(await store.list()).not.toContain(done);
    await expect(store.uploads.getUpload(id())).rejects.toMatchObject({ status_code: 404 });
    await expect(store.read(id(), 0, 1)).rejects.toBeDefined();
  });
});
