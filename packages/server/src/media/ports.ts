import type { Readable } from 'node:stream';
import type { DataStore } from '@tus/utils';

/**
 * Where media ciphertext lives (issue 14). Uploads arrive through the tus data store; finished
 * blobs are read back in byte ranges as streams (never whole in memory). The store knows nothing
 * of chats or accounts: the media service keeps that in the database (`media_blobs`).
 */
export interface BlobStore {
  /** What tus writes uploads through (creation, resumable PATCH, termination). */
  readonly uploads: DataStore;
  /** Bytes stored so far for an upload or blob, or undefined when there is none. */
  storedBytes(blobId: string): Promise<number | undefined>;
  /** Bytes `start` to `end` (inclusive) of a blob, as a stream. */
  read(blobId: string, start: number, end: number): Promise<Readable>;
  /** Deletes a blob or an unfinished upload; deleting one that is not there is not an error. */
  remove(blobId: string): Promise<void>;
  /** Ids of every blob or upload the store holds (operators and tests: count, find orphans). */
  list(): Promise<string[]>;
  close(): Promise<void>;
}
