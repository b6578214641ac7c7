import { createHash } from 'node:crypto';
import { CourierError, STICKER_MIME_TYPES, type StickerMime } from '@courier/protocol';
import sharp, { type Metadata } from 'sharp';
import { pngStructure, sniffImage } from './image-sniff.ts';

/** The side every sticker has: one side exactly this, the other at most this. */
export const STICKER_SIDE = 512;

export interface StickerImageLimits {
  maxBytes: number;
  maxFrames: number;
}

/** What an accepted image is, as read from its content. */
export interface CheckedStickerImage {
  mime: StickerMime;
  width: number;
  height: number;
  frames: number;
  /** SHA-256 of the bytes, hex. */
  hash: string;
}

const isStickerMime = (value: string): value is StickerMime =>
  (STICKER_MIME_TYPES as readonly string[]).includes(value);

/**
 * Checks an uploaded sticker by its content: it must be a PNG (still) or a WebP (still or animated),
 * of the type it was uploaded as (`declaredMime`, from the file's name or the Content-Type), with one
 * side of 512 px and the other at most 512, at most `maxFrames` frames and `maxBytes` bytes, and it
 * must decode to the end. Anything else is a STICKER_* CourierError; nothing here throws another error.
 */
export async function checkStickerImage(
  bytes: Uint8Array,
  declaredMime: string | undefined,
  limits: StickerImageLimits,
): Promise<CheckedStickerImage> {
  if (bytes.length > limits.maxBytes)
    throw new CourierError('STICKER_TOO_LARGE', { details: { maxBytes: limits.maxBytes } });
  const sniffed = sniffImage(bytes);
  if (sniffed === 'unknown') throw new CourierError('STICKER_NOT_IMAGE');
  if (sniffed === 'other-image') throw new CourierError('STICKER_TYPE_UNSUPPORTED');
  const mime: StickerMime = sniffed === 'png' ? 'image/png' : 'image/webp';
  const declared = declaredMime?.split(';')[0]?.trim().toLowerCase();
  if (declared === undefined || !isStickerMime(declared))
    throw new CourierError('STICKER_TYPE_UNSUPPORTED', { details: { declared: declared ?? null } });
  if (declared !== mime)
    throw new CourierError('STICKER_TYPE_MISMATCH', { details: { declared, actual: mime } });
  if (sniffed === 'png') {
    const structure = pngStructure(bytes);
    if (structure.kind === 'malformed') throw new CourierError('STICKER_NOT_IMAGE');
    // APNG: browsers animate it, but a sticker's animation is a WebP's (frames counted).
    if (structure.animated)
      throw new CourierError('STICKER_TYPE_UNSUPPORTED', { message: 'Animated PNG is not taken; use WebP.' });
  }
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { animated: true }).metadata();
  } catch (cause) {
    throw new CourierError('STICKER_NOT_IMAGE', { cause });
  }
  if (metadata.format !== sniffed) throw new CourierError('STICKER_NOT_IMAGE');
  const frames = metadata.pages ?? 1;
  const width = metadata.width;
  const height = metadata.pageHeight ?? metadata.height;
  if (!validSides(width, height))
    throw new CourierError('STICKER_DIMENSIONS_INVALID', { details: { width, height, side: STICKER_SIDE } });
  if (frames > limits.maxFrames)
    throw new CourierError('STICKER_TOO_MANY_FRAMES', { details: { frames, maxFrames: limits.maxFrames } });
  try {
    // Decodes every frame to the end: a truncated or damaged file is refused here, not in a browser.
    await sharp(input, { animated: true, failOn: 'error' }).stats();
  } catch (cause) {
    throw new CourierError('STICKER_NOT_IMAGE', { cause });
  }
  return { mime, width, height, frames, hash: createHash('sha256').update(input).digest('hex') };
}

/** One side exactly STICKER_SIDE, the other between 1 and STICKER_SIDE. */
export function validSides(width: number, height: number): boolean {
  const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= STICKER_SIDE;
  return ok(width) && ok(height) && (width === STICKER_SIDE || height === STICKER_SIDE);
}
