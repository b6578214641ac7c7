import { CourierError } from '@courier/protocol';
import type { ContentType } from './content-type.ts';
import { type MessageRef, parseMessageRef } from './message-ref.ts';
import { MAX_TEXT_LENGTH } from './text-content.ts';

/** The most of the quoted message a reply carries (shown as the quote line, also when the quoted message is not on this device). */
export const MAX_QUOTE_LENGTH = 200;

/** A text that answers another message of the chat, quoting it. */
export interface ReplyContent {
  v: 1;
  type: 'reply';
  text: string;
  sentAtMs: number;
  replyTo: MessageRef & { quote: string };
}

export const replyContent: ContentType<ReplyContent> = {
  type: 'reply',
  shown: true,
  parse(value) {
    const { text, sentAtMs } = value;
    if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT_LENGTH)
      return 'The text is missing or too long.';
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    const raw = value.replyTo as Record<string, unknown> | undefined;
    const ref = parseMessageRef(raw);
    const quote = raw?.quote;
    if (!ref || typeof quote !== 'string' || quote.length > MAX_QUOTE_LENGTH)
      return 'The reply names no message it answers.';
    return { v: 1, type: 'reply', text, sentAtMs, replyTo: { ...ref, quote } };
  },
  check(content) {
    if (content.text.length === 0 || content.text.length > MAX_TEXT_LENGTH)
      throw new CourierError('REQ_INVALID', { message: `A message has 1 to ${MAX_TEXT_LENGTH} characters.` });
    if (!parseMessageRef(content.replyTo) || content.replyTo.quote.length > MAX_QUOTE_LENGTH)
      throw new CourierError('REQ_INVALID', { message: 'A reply names the message it answers.' });
  },
};
