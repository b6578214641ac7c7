import { CourierError, decodeBase64, UNSAFE_TEXT_PATTERN } from '@courier/protocol';

export const MAX_FILE_NAME_LENGTH = 255;
export const MAX_MIME_LENGTH = 127;
/** Bytes of the sender-made preview (thumbnail) that travel inside the message. */
export const MAX_PREVIEW_BYTES = 48 * 1024;
/** The largest file size a descriptor can name (the server's own limit may be lower). */
export const MAX_DESCRIBED_FILE_BYTES = 2 ** 46;

/**
 * What a `file` message carries inside MLS: where the ciphertext is, the key to open it and the
 * digest to check it, and what to show before downloading. The server never sees any of it.
 */
export interface FileDescriptor {
  blobId: string;
  /** The file's AES-256-GCM key, base64 (32 bytes). */
  key: string;
  /**
   * The plaintext's digest, base64 (32 bytes): SHA-256 over the SHA-256 of each 64 KiB chunk in
   * order (media/chunk-digest.ts), checked after a whole download.
   */
  digest: string;
  /** Plaintext size in bytes. */
  size: number;
  mime: string;
  name: string;
  width?: number;
  height?: number;
  durationMs?: number;
  /** A small preview made by the sender (e.g. a WebP thumbnail, a video's poster frame). */
  preview?: { mime: string; data: string };
}

const BLOB_ID = /^[a-f0-9]{32}$/;
const MIME = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i;

const malformed = (message: string) => new CourierError('MLS_MALFORMED', { message });

const isDimension = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) > 0);

/** Checks every field; throws CourierError MLS_MALFORMED for anything out of shape. */
export function parseFileDescriptor(value: unknown): FileDescriptor {
  const v = value as Partial<FileDescriptor> | null;
  if (typeof v !== 'object' || v === null) throw malformed('A file message has no file.');
  if (typeof v.blobId !== 'string' || !BLOB_ID.test(v.blobId)) throw malformed('The blob id is malformed.');
  if (typeof v.key !== 'string' || decodeBase64(v.key)?.length !== 32)
    throw malformed('The file key is malformed.');
  if (typeof v.digest !== 'string' || decodeBase64(v.digest)?.length !== 32)
    throw malformed('The file digest is malformed.');
  if (
    !Number.isSafeInteger(v.size) ||
    (v.size as number) < 0 ||
    (v.size as number) > MAX_DESCRIBED_FILE_BYTES
  )
    throw malformed('The file size is out of range.');
  if (typeof v.mime !== 'string' || v.mime.length > MAX_MIME_LENGTH || !MIME.test(v.mime))
    throw malformed('The MIME type is malformed.');
  if (
    typeof v.name !== 'string' ||
    v.name.length === 0 ||
    v.name.length > MAX_FILE_NAME_LENGTH ||
    UNSAFE_TEXT_PATTERN.test(v.name)
  )
    throw malformed('The file name is malformed.');
  if (!isDimension(v.width) || !isDimension(v.height) || !isDimension(v.durationMs))
    throw malformed('The dimensions or duration are malformed.');
  let preview: FileDescriptor['preview'];
  if (v.preview !== undefined) {
    const p = v.preview as Partial<NonNullable<FileDescriptor['preview']>> | null;
    const bytes = typeof p?.data === 'string' ? decodeBase64(p.data) : undefined;
    if (
      typeof p !== 'object' ||
      p === null ||
      typeof p.mime !== 'string' ||
      !MIME.test(p.mime) ||
      p.mime.length > MAX_MIME_LENGTH ||
      bytes === undefined ||
      bytes.length > MAX_PREVIEW_BYTES
    )
      throw malformed('The preview is malformed.');
    preview = { mime: p.mime, data: p.data as string };
  }
  return {
    blobId: v.blobId,
    key: v.key,
    digest: v.digest,
    size: v.size as number,
    mime: v.mime,
    name: v.name,
    ...(v.width === undefined ? {} : { width: v.width }),
    ...(v.height === undefined ? {} : { height: v.height }),
    ...(v.durationMs === undefined ? {} : { durationMs: v.durationMs }),
    ...(preview ? { preview } : {}),
  };
}
