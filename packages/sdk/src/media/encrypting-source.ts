import { MEDIA_CHUNK_CIPHERTEXT_BYTES, MEDIA_CHUNK_PLAINTEXT_BYTES } from '@courier/protocol';
import { sha256 } from '@noble/hashes/sha2.js';
import type { ChunkCipher } from './chunk-cipher.ts';
import { chunkPlainLength } from './chunk-cipher.ts';
import type { PlaintextSource } from './plaintext-source.ts';

/**
 * The ciphertext of a file as random-access slices (what tus-js-client's `fileReader` asks for):
 * any byte range is produced by reading and encrypting only the chunks it covers. Encryption is
 * deterministic per chunk (fixed key and nonce), so a resumed upload sends the same bytes again.
 * The plaintext's SHA-256 is taken on the way, each chunk once, in order.
 */
export class EncryptingSource {
  private readonly hash = sha256.create();
  private hashedChunks = 0;

  constructor(
    private readonly source: PlaintextSource,
    private readonly cipher: ChunkCipher,
  ) {}

  get size(): number {
    return this.cipher.cipherSize;
  }

  async slice(start: number, end: number): Promise<{ value: Uint8Array; done: boolean }> {
    const stop = Math.min(end, this.size);
    if (start >= stop) return { value: Object.assign(new Uint8Array(0), { size: 0 }), done: true };
    const first = Math.floor(start / MEDIA_CHUNK_CIPHERTEXT_BYTES);
    const last = Math.floor((stop - 1) / MEDIA_CHUNK_CIPHERTEXT_BYTES);
    const plainStart = first * MEDIA_CHUNK_PLAINTEXT_BYTES;
    const plainEnd = Math.min(this.cipher.plainSize, (last + 1) * MEDIA_CHUNK_PLAINTEXT_BYTES);
    const plain = await this.source.read(plainStart, plainEnd - plainStart);
    const out = new Uint8Array((last - first + 1) * MEDIA_CHUNK_CIPHERTEXT_BYTES);
    let written = 0;
    for (let i = first; i <= last; i++) {
      const from = (i - first) * MEDIA_CHUNK_PLAINTEXT_BYTES;
      const chunk = plain.subarray(from, from + chunkPlainLength(i, this.cipher.plainSize));
      this.digestChunk(i, chunk);
      const sealed = await this.cipher.encryptChunk(i, chunk);
      out.set(sealed, written);
      written += sealed.length;
    }
    const offset = start - first * MEDIA_CHUNK_CIPHERTEXT_BYTES;
    // tus-js-client measures a slice by `size` (Blob-like); Node's and browsers' HTTP stacks send bytes.
    const value = Object.assign(out.subarray(0, written).subarray(offset, offset + (stop - start)), {
      size: stop - start,
    });
    return { value, done: stop >= this.size };
  }

  close(): void {}

  /**
   * The plaintext's SHA-256. Chunks the upload skipped (a resume after a restart, where the server
   * already held them) are read once more here.
   */
  async digest(): Promise<Uint8Array> {
    while (this.hashedChunks < this.cipher.chunkCount) {
      const i = this.hashedChunks;
      const length = chunkPlainLength(i, this.cipher.plainSize);
      this.digestChunk(i, await this.source.read(i * MEDIA_CHUNK_PLAINTEXT_BYTES, length));
    }
    return this.hash.clone().digest();
  }

  private digestChunk(index: number, plaintext: Uint8Array): void {
    if (index !== this.hashedChunks) return;
    this.hash.update(plaintext);
    this.hashedChunks += 1;
  }
}
