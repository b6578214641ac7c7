import { sha256 } from '@noble/hashes/sha2.js';
import { nodeCrypto } from './node-crypto.ts';

/**
 * The digest a file message carries: SHA-256 over the SHA-256 of each 64 KiB plaintext chunk, in
 * order (a hash list). Each chunk is hashed by WebCrypto (native speed; WebCrypto has no
 * incremental hash for a whole stream), and only those 32-byte hashes by the incremental one in JS,
 * so checking a file costs no more than decrypting it; in Node its crypto module hashes each chunk at
 * once, without WebCrypto's per-call overhead. Chunks are taken once each, in order; others are
 * ignored.
 */
export class ChunkDigest {
  private readonly outer = sha256.create();
  /** The outer hash has every chunk added so far once this settles. */
  private tail: Promise<void> = Promise.resolve();
  /** The next chunk expected. */
  next = 0;

  /**
   * Adds a chunk; resolves once it is in the digest. Chunks added one after another (without
   * waiting) are hashed at the same time and still enter the digest in order.
   */
  add(index: number, plaintext: Uint8Array): Promise<void> {
    if (index !== this.next) return this.tail;
    this.next += 1;
    if (nodeCrypto) {
      // Synchronous: straight into the outer hash, no promise per chunk (where Node's crypto is,
      // every chunk takes this path, so the order holds).
      this.outer.update(nodeCrypto.createHash('sha256').update(plaintext).digest());
      return this.tail;
    }
    const inner = crypto.subtle.digest('SHA-256', plaintext as Uint8Array<ArrayBuffer>);
    this.tail = this.tail.then(async () => {
      this.outer.update(new Uint8Array(await inner));
    });
    return this.tail;
  }

  /** The digest of every chunk added (call once their `add` settled). */
  digest(): Uint8Array {
    return this.outer.clone().digest();
  }
}
