import {
  MEDIA_CHUNK_CIPHERTEXT_BYTES,
  MEDIA_CHUNK_PLAINTEXT_BYTES,
  MEDIA_CHUNK_TAG_BYTES,
} from '@courier/protocol';
import type { ChunkCipher } from './chunk-cipher.ts';
import { chunkPlainLength } from './chunk-cipher.ts';
import { ChunkDigest } from './chunk-digest.ts';
import type { PlaintextSource } from './plaintext-source.ts';

/**
 * The ciphertext of a file as random-access slices (what tus-js-client's `fileReader` asks for):
 * any byte range is produced by reading and encrypting only the chunks it covers. Encryption is
 * deterministic per chunk (fixed key and nonce), so a resumed upload sends the same bytes again.
 * The file's digest (chunk-digest.ts) is taken on the way, each chunk once, in order.
 */
export class EncryptingSource {
  private readonly hash = new ChunkDigest();
  /** The slice after the last one asked for, encrypted while that one is on the wire. */
  private ahead:
    | { start: number; end: number; slice: Promise<{ value: Uint8Array; done: boolean }> }
    | undefined;

  constructor(
    private readonly source: PlaintextSource,
    private readonly cipher: ChunkCipher,
  ) {}

  get size(): number {
    return this.cipher.cipherSize;
  }

  async slice(start: number, end: number): Promise<{ value: Uint8Array; done: boolean }> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const result =
      ahead && ahead.start === start && ahead.end === end
        ? await ahead.slice
        : await this.encrypt(start, end);
    if (!result.done && end > start) {
      const next = { start: end, end: end + (end - start) };
      const slice = this.encrypt(next.start, next.end);
      slice.catch(() => {});
      this.ahead = { ...next, slice };
    }
    return result;
  }

  private async encrypt(start: number, end: number): Promise<{ value: Uint8Array; done: boolean }> {
    const stop = Math.min(end, this.size);
    if (start >= stop) return { value: Object.assign(new Uint8Array(0), { size: 0 }), done: true };
    const first = Math.floor(start / MEDIA_CHUNK_CIPHERTEXT_BYTES);
    const last = Math.floor((stop - 1) / MEDIA_CHUNK_CIPHERTEXT_BYTES);
    const plainStart = first * MEDIA_CHUNK_PLAINTEXT_BYTES;
    const plainEnd = Math.min(this.cipher.plainSize, (last + 1) * MEDIA_CHUNK_PLAINTEXT_BYTES);
    const plain = await this.source.read(plainStart, plainEnd - plainStart);
    const out = new Uint8Array((last - first + 1) * MEDIA_CHUNK_CIPHERTEXT_BYTES);
    // Every chunk of the slice at once, each sealed in place: WebCrypto works them on its thread pool
    // side by side (one at a time left the pool idle between chunks); Node's crypto seals them
    // right away. The digest still takes them in order.
    const sealing: Promise<void>[] = [];
    const hashing: Promise<void>[] = [];
    for (let i = first; i <= last; i++) {
      const from = (i - first) * MEDIA_CHUNK_PLAINTEXT_BYTES;
      const chunk = plain.subarray(from, from + chunkPlainLength(i, this.cipher.plainSize));
      sealing.push(this.cipher.encryptChunkInto(i, chunk, out, (i - first) * MEDIA_CHUNK_CIPHERTEXT_BYTES));
      hashing.push(this.hash.add(i, chunk));
    }
    await Promise.all(sealing);
    await Promise.all(hashing);
    const written =
      (last - first) * MEDIA_CHUNK_CIPHERTEXT_BYTES +
      chunkPlainLength(last, this.cipher.plainSize) +
      MEDIA_CHUNK_TAG_BYTES;
    const offset = start - first * MEDIA_CHUNK_CIPHERTEXT_BYTES;
    // tus-js-client measures a slice by `size` (Blob-like); Node's and browsers' HTTP stacks send bytes.
    const value = Object.assign(out.subarray(0, written).subarray(offset, offset + (stop - start)), {
      size: stop - start,
    });
    return { value, done: stop >= this.size };
  }

  close(): void {}

  /**
   * The file's digest. Chunks the upload skipped (a resume after a restart, where the server already
   * held them) are read once more here.
   */
  async digest(): Promise<Uint8Array> {
    while (this.hash.next < this.cipher.chunkCount) {
      const i = this.hash.next;
      const length = chunkPlainLength(i, this.cipher.plainSize);
      await this.hash.add(i, await this.source.read(i * MEDIA_CHUNK_PLAINTEXT_BYTES, length));
    }
    return this.hash.digest();
  }
}
