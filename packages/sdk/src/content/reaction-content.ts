import { CourierError } from '@courier/protocol';
import type { ContentType } from './content-type.ts';
import { type MessageRef, parseMessageRef } from './message-ref.ts';

/** The longest emoji (in UTF-16 units) a reaction may be: families and flags with modifiers fit. */
export const MAX_EMOJI_LENGTH = 32;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const PICTURE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** One emoji: a single grapheme that is a pictograph (or a flag or keycap), and short. */
export function isEmoji(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_EMOJI_LENGTH) return false;
  if (!PICTURE.test(value)) return false;
  let graphemes = 0;
  for (const _ of segmenter.segment(value)) if (++graphemes > 1) return false;
  return true;
}

/** A person adds (`on: true`) or takes back (`on: false`) an emoji reaction to a message. */
export interface ReactionContent {
  v: 1;
  type: 'reaction';
  target: MessageRef;
  emoji: string;
  on: boolean;
  sentAtMs: number;
}

export const reactionContent: ContentType<ReactionContent> = {
  type: 'reaction',
  shown: false,
  parse(value) {
    const target = parseMessageRef(value.target);
    const { emoji, on, sentAtMs } = value;
    if (!target) return 'The reaction names no message.';
    if (!isEmoji(emoji)) return 'The reaction is not one emoji.';
    if (typeof on !== 'boolean') return 'The reaction says neither added nor removed.';
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    return { v: 1, type: 'reaction', target, emoji, on, sentAtMs };
  },
  check(content) {
    if (!isEmoji(content.emoji))
      throw new CourierError('REQ_INVALID', { message: 'A reaction is one emoji.' });
    if (!parseMessageRef(content.target))
      throw new CourierError('REQ_INVALID', { message: 'A reaction names the message it is about.' });
  },
};
