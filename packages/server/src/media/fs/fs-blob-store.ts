import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { ERRORS, type Upload } from '@tus/utils';
import { makePrivateDir, restrictFile } from '../../files/private-files.ts';
import type { BlobStore } from '../ports.ts';

/** tus's file store, with each upload and its metadata file made 0600 (files/private-files.ts). */
class PrivateFileStore extends FileStore {
  override async create(file: Upload): Promise<Upload> {
    const created = await super.create(file);
    restrictFile(join(this.directory, file.id));
    restrictFile(join(this.directory, `${file.id}.json`));
    return created;
  }

  /**
   * FileStore's own write, with a larger buffer: its file stream's default 16 KiB made every piece of
   * a request body (64 KiB off the socket) one disk write and one wait for it before the next read;
   * with WRITE_BUFFER_BYTES the pieces that arrive while a write is on the thread pool go down in one
   * writev. What a dropped request delivered is still kept (appended at the offset).
   */
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const writable = createWriteStream(join(this.directory, id), {
      flags: 'r+',
      start: offset,
      highWaterMark: WRITE_BUFFER_BYTES,
    });
    try {
      // The file stream counts what it wrote: no counting stage in between (each stage of a pipe
      // is a few calls and an event per 64 KiB piece).
      await pipeline(readable, writable);
    } catch {
      throw ERRORS.FILE_WRITE_ERROR;
    }
    return offset + writable.bytesWritten;
  }
}

/** Bytes of an upload's body buffered on their way to the file. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

// FileStore's constructor starts an asynchronous mkdir whose callback throws (an uncaught exception)
// if the folder's parent is gone by then, e.g. a server closed and its data folder removed at once.
// FsBlobStore creates the folder itself, synchronously and 0700, before constructing the store, so
// that step is replaced by nothing (it is private in FileStore's types, hence the cast).
(PrivateFileStore.prototype as unknown as { checkOrCreateDirectory: () => void }).checkOrCreateDirectory =
  () => {};

const BLOB_NAME = /^[a-f0-9]{32}$/;

/**
 * The default blob store: one file per blob under the data folder (0700), written by
 * `@tus/file-store` (which appends at the offset, so a dropped request keeps every byte it
 * delivered), read back with ranged file streams.
 */
export class FsBlobStore implements BlobStore {
  readonly uploads: FileStore;

  constructor(readonly dir: string) {
    makePrivateDir(dir);
    this.uploads = new PrivateFileStore({ directory: dir });
  }

  private path(blobId: string): string {
    if (!BLOB_NAME.test(blobId)) throw new Error(`not a blob id: ${blobId}`);
    return join(this.dir, blobId);
  }

  async storedBytes(blobId: string): Promise<number | undefined> {
    if (!BLOB_NAME.test(blobId)) return undefined;
    try {
      return (await stat(this.path(blobId))).size;
    } catch {
      return undefined;
    }
  }

  async read(blobId: string, start: number, end: number): Promise<Readable> {
    const stream = createReadStream(this.path(blobId), { start, end, highWaterMark: 256 * 1024 });
    // Fail here (not in the middle of a reply) when the file is gone.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  async remove(blobId: string): Promise<void> {
    if (!BLOB_NAME.test(blobId)) return;
    try {
      await this.uploads.remove(blobId);
    } catch {
      // Already gone (or only its metadata was left): remove what remains.
      await this.uploads.configstore.delete(blobId).catch(() => {});
    }
  }

  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((name) => BLOB_NAME.test(name)).sort();
  }

  async close(): Promise<void> {}
}
