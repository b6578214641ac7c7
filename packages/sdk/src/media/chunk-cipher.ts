import {
  CourierError,
  MEDIA_CHUNK_CIPHERTEXT_BYTES,
  MEDIA_CHUNK_PLAINTEXT_BYTES,
  MEDIA_CHUNK_TAG_BYTES,
  mediaChunkCount,
  mediaCiphertextSize,
} from '@courier/protocol';
import { nodeCrypto } from './node-crypto.ts';

/** Bytes of a file key (AES-256). */
export const FILE_KEY_BYTES = 32;
const NONCE_BYTES = 12;
/** Binds every chunk to this format and version. */
const AAD = new TextEncoder().encode('courier-media-v1');

/** A fresh random key for one file (never reused for another file). */
export function generateFileKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(FILE_KEY_BYTES));
}

/**
 * The nonce of chunk `index`: its index (64-bit big-endian) and whether it is the last chunk. The
 * key is fresh per file, so each (key, nonce) pair is used for one chunk only; re-encrypting a
 * chunk (a resumed upload) yields the same bytes. A chunk moved to another position, or a
 * non-final chunk presented as the last (truncation), fails authentication.
 */
export function chunkNonce(index: number, final: boolean): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`chunk index ${index}`);
  const nonce = new Uint8Array(NONCE_BYTES);
  const view = new DataView(nonce.buffer);
  view.setUint32(0, Math.floor(index / 2 ** 32));
  view.setUint32(4, index >>> 0);
  nonce[NONCE_BYTES - 1] = final ? 1 : 0;
  return nonce;
}

/** Where chunk `index` starts in the ciphertext. */
export const chunkCipherOffset = (index: number) => index * MEDIA_CHUNK_CIPHERTEXT_BYTES;

/** The plaintext bytes chunk `index` of a file of `plainSize` bytes holds. */
export function chunkPlainLength(index: number, plainSize: number): number {
  return Math.max(0, Math.min(MEDIA_CHUNK_PLAINTEXT_BYTES, plainSize - index * MEDIA_CHUNK_PLAINTEXT_BYTES));
}

const integrityFailure = (message: string, cause?: unknown) =>
  new CourierError('MEDIA_INTEGRITY_FAILED', { message, ...(cause === undefined ? {} : { cause }) });

/** Which implementation seals the chunks: Node's crypto module where there is one, else WebCrypto. */
export type CipherEngine = 'node' | 'webcrypto';

/**
 * AES-256-GCM over one file's chunks: in Node through its crypto module (synchronous, no per-call
 * overhead worth naming), in browsers through WebCrypto (`crypto.subtle`); both use hardware AES
 * where there is some, and produce the same bytes.
 */
export class ChunkCipher {
  private constructor(
    private readonly key: { kind: 'webcrypto'; key: CryptoKey } | { kind: 'node'; key: Uint8Array },
    /** The file's plaintext size: fixes the number of chunks and which one is final. */
    readonly plainSize: number,
  ) {}

  /** `engine` forces one implementation (tests compare them); by default Node's where it runs. */
  static async create(keyBytes: Uint8Array, plainSize: number, engine?: CipherEngine): Promise<ChunkCipher> {
    if (keyBytes.length !== FILE_KEY_BYTES)
      throw new CourierError('REQ_INVALID', { message: 'A file key has 32 bytes.' });
    if (!Number.isSafeInteger(plainSize) || plainSize < 0)
      throw new CourierError('REQ_INVALID', { message: 'A file size is a whole number of bytes.' });
    if ((engine ?? (nodeCrypto ? 'node' : 'webcrypto')) === 'node') {
      if (!nodeCrypto) throw new RangeError('Node crypto is not available here.');
      return new ChunkCipher({ kind: 'node', key: new Uint8Array(keyBytes) }, plainSize);
    }
    const key = await crypto.subtle.importKey('raw', new Uint8Array(keyBytes), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    return new ChunkCipher({ kind: 'webcrypto', key }, plainSize);
  }

  get engine(): CipherEngine {
    return this.key.kind;
  }

  get chunkCount(): number {
    return mediaChunkCount(this.plainSize);
  }

  get cipherSize(): number {
    return mediaCiphertextSize(this.plainSize);
  }

  isFinal(index: number): boolean {
    return index === this.chunkCount - 1;
  }

  async encryptChunk(index: number, plaintext: Uint8Array): Promise<Uint8Array> {
    const out = new Uint8Array(plaintext.length + MEDIA_CHUNK_TAG_BYTES);
    await this.encryptChunkInto(index, plaintext, out, 0);
    return out;
  }

  /**
   * Encrypts chunk `index` into `target` at `offset` (its plaintext length plus the 16-byte tag):
   * a slice of many chunks is written in place, with no copy per chunk. In Node this completes
   * synchronously (the promise is settled when returned).
   */
  encryptChunkInto(index: number, plaintext: Uint8Array, target: Uint8Array, offset: number): Promise<void> {
    if (index >= this.chunkCount || plaintext.length !== chunkPlainLength(index, this.plainSize))
      throw new RangeError(`chunk ${index} of a ${this.plainSize}-byte file has another length`);
    const iv = chunkNonce(index, this.isFinal(index));
    if (this.key.kind === 'node') {
      const node = nodeCrypto as NonNullable<typeof nodeCrypto>;
      const cipher = node.createCipheriv('aes-256-gcm', this.key.key, iv);
      cipher.setAAD(AAD);
      const body = cipher.update(plaintext);
      target.set(body, offset);
      const tail = cipher.final();
      target.set(tail, offset + body.length);
      target.set(cipher.getAuthTag(), offset + body.length + tail.length);
      return Promise.resolve();
    }
    return crypto.subtle
      .encrypt(
        { name: 'AES-GCM', iv, additionalData: AAD },
        this.key.key,
        plaintext as Uint8Array<ArrayBuffer>,
      )
      .then((sealed) => target.set(new Uint8Array(sealed), offset));
  }

  /** Throws CourierError MEDIA_INTEGRITY_FAILED for a chunk that is not chunk `index` of this file. */
  async decryptChunk(index: number, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (index >= this.chunkCount)
      throw integrityFailure(`The file has ${this.chunkCount} chunks; more ciphertext followed.`);
    if (ciphertext.length !== chunkPlainLength(index, this.plainSize) + MEDIA_CHUNK_TAG_BYTES)
      throw integrityFailure(`Chunk ${index} has the wrong length (truncated or extended).`);
    const iv = chunkNonce(index, this.isFinal(index));
    try {
      if (this.key.kind === 'node') {
        const node = nodeCrypto as NonNullable<typeof nodeCrypto>;
        const split = ciphertext.length - MEDIA_CHUNK_TAG_BYTES;
        const decipher = node.createDecipheriv('aes-256-gcm', this.key.key, iv);
        decipher.setAAD(AAD);
        decipher.setAuthTag(ciphertext.subarray(split));
        const body = decipher.update(ciphertext.subarray(0, split));
        // Throws when the tag does not verify: nothing of the chunk is handed out then.
        const tail = decipher.final();
        return tail.length === 0 ? body : Buffer.concat([body, tail]);
      }
      const opened = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: AAD },
        this.key.key,
        ciphertext as Uint8Array<ArrayBuffer>,
      );
      return new Uint8Array(opened);
    } catch (cause) {
      throw integrityFailure(`Chunk ${index} failed authentication.`, cause);
    }
  }
}
