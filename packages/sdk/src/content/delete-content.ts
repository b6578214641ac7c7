import { CourierError } from '@courier/protocol';
import type { ContentType } from './content-type.ts';
import { type MessageRef, parseMessageRef } from './message-ref.ts';

/**
 * "Delete for everyone": receiving clients that honour it remove the message's content (text, file,
 * quote, edit history, reactions) and show "message deleted" — only when the MLS sender is the
 * message's own sender. A modified client may keep a copy; the sender is told so.
 */
export interface DeleteContent {
  v: 1;
  type: 'delete';
  target: MessageRef;
  sentAtMs: number;
}

export const deleteContent: ContentType<DeleteContent> = {
  type: 'delete',
  shown: false,
  parse(value) {
    const target = parseMessageRef(value.target);
    const { sentAtMs } = value;
    if (!target) return 'The deletion names no message.';
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    return { v: 1, type: 'delete', target, sentAtMs };
  },
  check(content) {
    if (!parseMessageRef(content.target))
      throw new CourierError('REQ_INVALID', { message: 'A deletion names the message it removes.' });
  },
};
