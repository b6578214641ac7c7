import {
  MEDIA_CHUNK_CIPHERTEXT_BYTES,
  MEDIA_CHUNK_PLAINTEXT_BYTES,
  MEDIA_CHUNK_TAG_BYTES,
} from '@courier/protocol';
import type { ChunkCipher } from './chunk-cipher.ts';
import { chunkPlainLength } from './chunk-cipher.ts';
import { ChunkDigest } from './chunk-digest.ts';
import type { PlaintextSource } from './plaintext-source.ts';

type Slice = { value: Uint8Array; done: boolean };

/** A slice encrypted ahead, and the buffer it is written into. */
interface Ahead {
  start: number;
  end: number;
  buffer: Uint8Array;
  slice: Promise<Slice>;
}

/**
 * The ciphertext of a file as random-access slices (what tus-js-client's `fileReader` asks for):
 * any byte range is produced by reading and encrypting only the chunks it covers. Encryption is
 * deterministic per chunk (fixed key and nonce), so a resumed upload sends the same bytes again.
 * The file's digest (chunk-digest.ts) is taken on the way, each chunk once, in order.
 *
 * A slice's bytes stay valid until the next call of `slice` (tus-js-client asks for the next slice
 * only once the request that carried the last one is over; copy them to keep them longer): its
 * buffer is written again then. Two request-sized buffers serve a whole upload, the one on the wire
 * and the one encrypted ahead. A fresh buffer per slice cost a zeroed allocation, its page faults
 * and a collection every few slices: in a profile, as much CPU as AES-GCM itself.
 */
export class EncryptingSource {
  private readonly hash = new ChunkDigest();
  /** The slice after the last one asked for, encrypted while that one is on the wire. */
  private ahead: Ahead | undefined;
  /** The buffer of the slice handed out last (on the wire until the next `slice` call). */
  private handedOut: Uint8Array | undefined;
  /** Buffers free to be written again. */
  private readonly spare: Uint8Array[] = [];
  /** Where a source with `readInto` puts a slice's plaintext, and whether a slice is using it. */
  private plainBuffer = new Uint8Array(0);
  private plainBusy = false;

  constructor(
    private readonly source: PlaintextSource,
    private readonly cipher: ChunkCipher,
  ) {}

  get size(): number {
    return this.cipher.cipherSize;
  }

  async slice(start: number, end: number): Promise<Slice> {
    if (this.handedOut) this.release(this.handedOut);
    this.handedOut = undefined;
    const ahead = this.ahead;
    this.ahead = undefined;
    let result: Slice;
    if (ahead && ahead.start === start && ahead.end === end) {
      result = await ahead.slice;
      this.handedOut = ahead.buffer;
    } else {
      if (ahead) {
        // Another range (a retry from the server's offset): the slice ahead is not wanted, and its
        // buffer is free once nothing writes into it any more.
        await ahead.slice.catch(() => {});
        this.release(ahead.buffer);
      }
      const buffer = this.take(this.bufferBytes(start, end));
      result = await this.encrypt(start, end, buffer);
      this.handedOut = buffer;
    }
    if (!result.done && end > start) {
      const next = { start: end, end: end + (end - start) };
      const buffer = this.take(this.bufferBytes(next.start, next.end));
      const slice = this.encrypt(next.start, next.end, buffer);
      slice.catch(() => {});
      this.ahead = { ...next, buffer, slice };
    }
    return result;
  }

  /** Bytes of the whole chunks a slice [start, end) of the ciphertext covers. */
  private bufferBytes(start: number, end: number): number {
    const stop = Math.min(end, this.size);
    if (start >= stop) return 0;
    const first = Math.floor(start / MEDIA_CHUNK_CIPHERTEXT_BYTES);
    const last = Math.floor((stop - 1) / MEDIA_CHUNK_CIPHERTEXT_BYTES);
    return (last - first + 1) * MEDIA_CHUNK_CIPHERTEXT_BYTES;
  }

  private take(bytes: number): Uint8Array {
    const i = this.spare.findIndex((b) => b.length >= bytes);
    if (i >= 0) return this.spare.splice(i, 1)[0] as Uint8Array;
    return new Uint8Array(bytes);
  }

  private release(buffer: Uint8Array): void {
    // A sequential upload needs two (on the wire, ahead); more would only hold memory.
    if (buffer.length > 0 && this.spare.length < 2) this.spare.push(buffer);
  }

  /**
   * The plaintext of a slice: read into the one plaintext buffer when the source can (slices are
   * encrypted one at a time; one asked for while another is, gets its own).
   */
  private async readPlain(offset: number, length: number): Promise<Uint8Array> {
    if (!this.source.readInto || this.plainBusy) return this.source.read(offset, length);
    if (this.plainBuffer.length < length) this.plainBuffer = new Uint8Array(length);
    this.plainBusy = true;
    const target = this.plainBuffer.subarray(0, length);
    try {
      await this.source.readInto(offset, target);
    } catch (error) {
      this.plainBusy = false;
      throw error;
    }
    return target;
  }

  /** Encrypts the chunks of [start, end) into `out` (at least `bufferBytes(start, end)` long). */
  private async encrypt(start: number, end: number, out: Uint8Array): Promise<Slice> {
    const stop = Math.min(end, this.size);
    if (start >= stop) return { value: Object.assign(new Uint8Array(0), { size: 0 }), done: true };
    const first = Math.floor(start / MEDIA_CHUNK_CIPHERTEXT_BYTES);
    const last = Math.floor((stop - 1) / MEDIA_CHUNK_CIPHERTEXT_BYTES);
    const plainStart = first * MEDIA_CHUNK_PLAINTEXT_BYTES;
    const plainEnd = Math.min(this.cipher.plainSize, (last + 1) * MEDIA_CHUNK_PLAINTEXT_BYTES);
    const plain = await this.readPlain(plainStart, plainEnd - plainStart);
    try {
      return await this.seal(first, last, start, stop, plain, out);
    } finally {
      if (plain.buffer === this.plainBuffer.buffer) this.plainBusy = false;
    }
  }

  private async seal(
    first: number,
    last: number,
    start: number,
    stop: number,
    plain: Uint8Array,
    out: Uint8Array,
  ): Promise<Slice> {
    // Every chunk of the slice at once, each sealed in place: WebCrypto works them on its thread pool
    // side by side (one at a time left the pool idle between chunks); Node's crypto seals and
    // hashes each right away, while the chunk is still in the CPU's cache. The digest takes them in
    // order.
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
