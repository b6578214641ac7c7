import {
  CourierError,
  MEDIA_CHUNK_CIPHERTEXT_BYTES,
  MEDIA_CHUNK_PLAINTEXT_BYTES,
  MEDIA_CHUNK_TAG_BYTES,
  mediaChunkCount,
  mediaCiphertextSize,
} from '@courier/protocol';

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

/**
 * AES-256-GCM over one file's chunks, through WebCrypto (`crypto.subtle`: Node 20 and browsers
 * alike, and hardware AES where there is some).
 */
export class ChunkCipher {
  private constructor(
    private readonly key: CryptoKey,
    /** The file's plaintext size: fixes the number of chunks and which one is final. */
    readonly plainSize: number,
  ) {}

  static async create(keyBytes: Uint8Array, plainSize: number): Promise<ChunkCipher> {
    if (keyBytes.length !== FILE_KEY_BYTES)
      throw new CourierError('REQ_INVALID', { message: 'A file key has 32 bytes.' });
    if (!Number.isSafeInteger(plainSize) || plainSize < 0)
      throw new CourierError('REQ_INVALID', { message: 'A file size is a whole number of bytes.' });
    const key = await crypto.subtle.importKey('raw', new Uint8Array(keyBytes), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    return new ChunkCipher(key, plainSize);
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
    if (index >= this.chunkCount || plaintext.length !== chunkPlainLength(index, this.plainSize))
      throw new RangeError(`chunk ${index} of a ${this.plainSize}-byte file has another length`);
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: chunkNonce(index, this.isFinal(index)), additionalData: AAD },
      this.key,
      plaintext as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(sealed);
  }

  /** Throws CourierError MEDIA_INTEGRITY_FAILED for a chunk that is not chunk `index` of this file. */
  async decryptChunk(index: number, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (index >= this.chunkCount)
      throw integrityFailure(`The file has ${this.chunkCount} chunks; more ciphertext followed.`);
    if (ciphertext.length !== chunkPlainLength(index, this.plainSize) + MEDIA_CHUNK_TAG_BYTES)
      throw integrityFailure(`Chunk ${index} has the wrong length (truncated or extended).`);
    try {
      const opened = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: chunkNonce(index, this.isFinal(index)), additionalData: AAD },
        this.key,
        ciphertext as Uint8Array<ArrayBuffer>,
      );
      return new Uint8Array(opened);
    } catch (cause) {
      throw integrityFailure(`Chunk ${index} failed authentication.`, cause);
    }
  }
}
