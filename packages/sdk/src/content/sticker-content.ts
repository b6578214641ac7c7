import { CourierError, isStickerEmoji, isStickerShortName } from '@courier/protocol';
import type { ContentType } from './content-type.ts';

/**
 * Which sticker a message shows: a pack's short name and the sticker's index in it, and its emoji
 * (shown when the pack or the sticker is gone, and in text-only views). Never the image: that is
 * public, fetched by the receiver from the pack.
 */
export interface StickerRef {
  pack: string;
  index: number;
  emoji: string;
}

/** A sticker message (issue 16). */
export interface StickerContent {
  v: 1;
  type: 'sticker';
  sticker: StickerRef;
  sentAtMs: number;
}

/** The reference inside a sticker message, checked: the reference, or a reason. */
export function parseStickerRef(value: unknown): StickerRef | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'The sticker is missing.';
  const { pack, index, emoji } = value as Record<string, unknown>;
  if (!isStickerShortName(pack)) return 'The sticker names no valid pack.';
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 1)
    return 'The sticker has no valid index.';
  if (!isStickerEmoji(emoji)) return 'The sticker has no valid emoji.';
  return { pack, index, emoji };
}

export const stickerContent: ContentType<StickerContent> = {
  type: 'sticker',
  shown: true,
  parse(value) {
    const { sentAtMs } = value;
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    const sticker = parseStickerRef(value.sticker);
    if (typeof sticker === 'string') return sticker;
    return { v: 1, type: 'sticker', sticker, sentAtMs };
  },
  check(content) {
    const sticker = parseStickerRef(content.sticker);
    if (typeof sticker === 'string') throw new CourierError('REQ_INVALID', { message: sticker });
  },
};
