import { CourierError } from '@courier/protocol';
import type { ContentType } from './content-type.ts';
import { type MessageRef, parseMessageRef } from './message-ref.ts';
import { MAX_TEXT_LENGTH } from './text-content.ts';

/**
 * The new text of a message its sender sent before. Never shown by itself: receiving clients apply
 * it to the message (marked "edited", the earlier text kept on the device) only when the MLS sender
 * is the message's own sender.
 */
export interface EditContent {
  v: 1;
  type: 'edit';
  target: MessageRef;
  text: string;
  sentAtMs: number;
}

export const editContent: ContentType<EditContent> = {
  type: 'edit',
  shown: false,
  parse(value) {
    const target = parseMessageRef(value.target);
    const { text, sentAtMs } = value;
    if (!target) return 'The edit names no message.';
    if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT_LENGTH)
      return 'The new text is missing or too long.';
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    return { v: 1, type: 'edit', target, text, sentAtMs };
  },
  check(content) {
    if (content.text.length === 0 || content.text.length > MAX_TEXT_LENGTH)
      throw new CourierError('REQ_INVALID', { message: `A message has 1 to ${MAX_TEXT_LENGTH} characters.` });
    if (!parseMessageRef(content.target))
      throw new CourierError('REQ_INVALID', { message: 'An edit names the message it changes.' });
  },
};
