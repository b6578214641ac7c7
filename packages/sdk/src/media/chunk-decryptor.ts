import { CourierError, MEDIA_CHUNK_TAG_BYTES } from '@courier/protocol';
import type { ChunkCipher } from './chunk-cipher.ts';
import { chunkPlainLength } from './chunk-cipher.ts';

/**
 * Turns ciphertext bytes, arriving in pieces of any size, into plaintext chunk by chunk, starting at
 * chunk `firstChunk` and expecting every chunk up to `endChunk`. Holds at most one chunk.
 */
export class ChunkDecryptor {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly cipher: ChunkCipher,
    /** The next chunk expected. */
    public nextChunk: number,
    private readonly endChunk: number,
  ) {}

  /** Bytes of ciphertext the next chunk has. */
  private need(): number {
    return chunkPlainLength(this.nextChunk, this.cipher.plainSize) + MEDIA_CHUNK_TAG_BYTES;
  }

  /** Feeds ciphertext; returns the plaintext of every chunk it completed, in order. */
  async push(bytes: Uint8Array): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    let rest = bytes;
    while (rest.length > 0) {
      if (this.nextChunk >= this.endChunk)
        throw new CourierError('MEDIA_INTEGRITY_FAILED', {
          message: 'More ciphertext arrived than the file has.',
        });
      const take = Math.min(rest.length, this.need() - this.pendingBytes);
      this.pending.push(rest.subarray(0, take));
      this.pendingBytes += take;
      rest = rest.subarray(take);
      if (this.pendingBytes === this.need()) {
        const sealed = this.pending.length === 1 ? this.pending[0]! : concat(this.pending, this.pendingBytes);
        out.push(await this.cipher.decryptChunk(this.nextChunk, sealed));
        this.nextChunk += 1;
        this.pending = [];
        this.pendingBytes = 0;
      }
    }
    return out;
  }

  /** Drops a partly received chunk (a retry fetches it again from its start). */
  discardPartial(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Throws MEDIA_INTEGRITY_FAILED unless every expected chunk arrived whole. */
  finish(): void {
    if (this.nextChunk !== this.endChunk || this.pendingBytes !== 0)
      throw new CourierError('MEDIA_INTEGRITY_FAILED', {
        message: `The ciphertext ended at chunk ${this.nextChunk} of ${this.endChunk} (truncated).`,
      });
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
