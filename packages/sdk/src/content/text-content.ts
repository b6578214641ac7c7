import { CourierError } from '@courier/protocol';
import type { ContentType } from './content-type.ts';

export const MAX_TEXT_LENGTH = 16_384;

/** A text message. */
export interface TextContent {
  v: 1;
  type: 'text';
  text: string;
  sentAtMs: number;
}

export const textContent: ContentType<TextContent> = {
  type: 'text',
  shown: true,
  parse(value) {
    const { text, sentAtMs } = value;
    if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) return 'The text is missing or too long.';
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    return { v: 1, type: 'text', text, sentAtMs };
  },
  check(content) {
    if (content.text.length === 0 || content.text.length > MAX_TEXT_LENGTH)
      throw new CourierError('REQ_INVALID', { message: `A message has 1 to ${MAX_TEXT_LENGTH} characters.` });
  },
};
