/**
 * The media wire contract (issue 14): the chunked ciphertext format both the SDK and the server
 * know the shape of, the tus upload path and the metadata an upload carries.
 *
 * A file is encrypted by its sender with a fresh AES-256-GCM key in chunks of
 * MEDIA_CHUNK_PLAINTEXT_BYTES plaintext (the last one shorter, possibly empty); each chunk becomes
 * its plaintext plus a MEDIA_CHUNK_TAG_BYTES tag, so the ciphertext of chunk i starts at
 * i * MEDIA_CHUNK_CIPHERTEXT_BYTES and a range of the plaintext maps to a range of chunks.
 */
export const MEDIA_CHUNK_PLAINTEXT_BYTES = 64 * 1024;
export const MEDIA_CHUNK_TAG_BYTES = 16;
export const MEDIA_CHUNK_CIPHERTEXT_BYTES = MEDIA_CHUNK_PLAINTEXT_BYTES + MEDIA_CHUNK_TAG_BYTES;

/** Where tus uploads are created (POST) and continued (HEAD/PATCH/DELETE `…/:uploadId`). */
export const MEDIA_UPLOAD_PATH = '/v1/media/uploads';
/** Where a finished blob is fetched (GET `…/:blobId`, with Range). */
export const MEDIA_BLOB_PATH = '/v1/media';
/**
 * POST `MEDIA_BLOB_PATH/:blobId/chats` (a forward of a file): binds a finished blob to a further chat.
 * The caller must be a member of a chat the blob is bound to (else MEDIA_NOT_FOUND) and of `chatId`
 * (else GROUP_NOT_FOUND); then that chat's members may fetch the blob too. No bytes are copied.
 */
export interface MediaGrantBody {
  chatId: string;
}
export interface MediaGrantReply {
  blobId: string;
  chatId: string;
  /** False when the blob was bound to that chat already. */
  granted: boolean;
}

/** The one tus metadata key an upload carries: the chat it is for (nothing about the file). */
export const MEDIA_GROUP_METADATA_KEY = 'groupId';
/**
 * Instead of a chat, an upload may name a channel (issue 16) it is for: only the channel's owner
 * and admins may upload to it, and the blob is then readable as the channel's posts are.
 */
export const MEDIA_CHANNEL_METADATA_KEY = 'channelId';

/** Number of chunks of a file of `plainSize` bytes (an empty file is one empty chunk). */
export function mediaChunkCount(plainSize: number): number {
  return Math.max(1, Math.ceil(plainSize / MEDIA_CHUNK_PLAINTEXT_BYTES));
}

/** Bytes of ciphertext a file of `plainSize` bytes becomes. */
export function mediaCiphertextSize(plainSize: number): number {
  return plainSize + mediaChunkCount(plainSize) * MEDIA_CHUNK_TAG_BYTES;
}

/**
 * The plaintext size a ciphertext of `cipherSize` bytes holds, or undefined when no file encrypts
 * to that length (the server refuses such uploads; a client treats it as truncation).
 */
export function mediaPlaintextSize(cipherSize: number): number | undefined {
  if (!Number.isSafeInteger(cipherSize) || cipherSize < MEDIA_CHUNK_TAG_BYTES) return undefined;
  const full = Math.floor(cipherSize / MEDIA_CHUNK_CIPHERTEXT_BYTES);
  const rest = cipherSize - full * MEDIA_CHUNK_CIPHERTEXT_BYTES;
  if (rest === 0) return full * MEDIA_CHUNK_PLAINTEXT_BYTES;
  if (rest < MEDIA_CHUNK_TAG_BYTES) return undefined;
  return full * MEDIA_CHUNK_PLAINTEXT_BYTES + rest - MEDIA_CHUNK_TAG_BYTES;
}
