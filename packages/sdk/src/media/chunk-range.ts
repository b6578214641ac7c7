import {
  CourierError,
  MEDIA_CHUNK_PLAINTEXT_BYTES,
  MEDIA_CHUNK_TAG_BYTES,
  mediaChunkCount,
  mediaCiphertextSize,
} from '@courier/protocol';
import { chunkCipherOffset, chunkPlainLength } from './chunk-cipher.ts';

/** Which chunks, and which bytes of ciphertext, cover plaintext bytes [start, end) of a file. */
export interface ChunkRange {
  firstChunk: number;
  /** One past the last chunk. */
  endChunk: number;
  cipherStart: number;
  /** One past the last ciphertext byte. */
  cipherEnd: number;
  /** Plaintext bytes to drop from the first chunk, and how many to deliver in all. */
  skip: number;
  length: number;
}

/** Maps a plaintext range to the ciphertext range to fetch (random access for seeking). */
export function chunkRangeFor(plainSize: number, start: number, end: number): ChunkRange {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end > plainSize ||
    start > end
  )
    throw new CourierError('MEDIA_RANGE_INVALID', {
      message: `Bytes ${start} to ${end} are not a range of a ${plainSize}-byte file.`,
    });
  const count = mediaChunkCount(plainSize);
  const firstChunk = Math.min(Math.floor(start / MEDIA_CHUNK_PLAINTEXT_BYTES), count - 1);
  const endChunk =
    end === start ? firstChunk + 1 : Math.min(count, Math.ceil(end / MEDIA_CHUNK_PLAINTEXT_BYTES));
  const lastChunk = endChunk - 1;
  const cipherEnd = Math.min(
    mediaCiphertextSize(plainSize),
    chunkCipherOffset(lastChunk) + chunkPlainLength(lastChunk, plainSize) + MEDIA_CHUNK_TAG_BYTES,
  );
  return {
    firstChunk,
    endChunk,
    cipherStart: chunkCipherOffset(firstChunk),
    cipherEnd,
    skip: start - firstChunk * MEDIA_CHUNK_PLAINTEXT_BYTES,
    length: end - start,
  };
}
