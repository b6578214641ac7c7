/**
 * The sticker wire contract (issue 16). A sticker pack is public: anyone who knows its short name
 * can fetch it and its images; only its owner changes it. A message that carries a sticker holds a
 * reference (pack short name, sticker index, emoji), never the image.
 */

/** Packs: POST (create), GET `…/:shortName` (public), DELETE `…/:shortName` (owner). */
export const STICKER_PACKS_PATH = '/v1/sticker-packs';
/** Images by content hash: GET `…/:hash` (public, immutable). */
export const STICKER_IMAGES_PATH = '/v1/stickers';
/** The web app's link that adds a pack: `/addstickers/<shortName>`. */
export const STICKER_LINK_PREFIX = '/addstickers/';

/** A pack's short name: 3 to 32 characters, a-z, 0-9 and _, starting with a letter. */
export const STICKER_SHORT_NAME_PATTERN = /^[a-z][a-z0-9_]{2,31}$/;
export const MAX_STICKER_PACK_TITLE_LENGTH = 64;
/** One emoji (with its modifiers, joiners and variation selectors), at most this many UTF-16 units. */
export const MAX_STICKER_EMOJI_LENGTH = 32;
const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\u200d|\ufe0f|\u20e3)+$/u;
const HAS_PICTOGRAPH = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** The image formats a sticker may have, as upload content types. */
export const STICKER_MIME_TYPES = ['image/png', 'image/webp'] as const;
export type StickerMime = (typeof STICKER_MIME_TYPES)[number];

export function isStickerShortName(value: unknown): value is string {
  return typeof value === 'string' && STICKER_SHORT_NAME_PATTERN.test(value);
}

/** An emoji that names a sticker (what the picker searches and a message falls back to). */
export function isStickerEmoji(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_STICKER_EMOJI_LENGTH &&
    EMOJI.test(value) &&
    HAS_PICTOGRAPH.test(value)
  );
}

/** One sticker of a pack, as the server serves it. */
export interface StickerView {
  /** Stable within the pack: never reused after a sticker is deleted. */
  index: number;
  emoji: string;
  /** SHA-256 of the image bytes (hex): the image is at `${STICKER_IMAGES_PATH}/${hash}`. */
  hash: string;
  mime: StickerMime;
  width: number;
  height: number;
  /** 1 for a still image; more for an animated WebP. */
  frames: number;
  bytes: number;
}

export interface StickerPackView {
  shortName: string;
  title: string;
  ownerAccountId: string;
  createdAt: number;
  stickers: StickerView[];
}

export interface CreateStickerPackBody {
  shortName: string;
  title: string;
}

/** The path of a sticker image. */
export function stickerImagePath(hash: string): string {
  return `${STICKER_IMAGES_PATH}/${hash}`;
}
