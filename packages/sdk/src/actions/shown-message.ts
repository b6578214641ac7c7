import type { ActionContent, AnyContent } from '../content/content-registry.ts';
import type { StoredMessage } from '../mls/mls-store.ts';

/** Edit, delete and reaction content: applied to a message, never shown by itself. */
export function isActionContent(content: AnyContent): content is ActionContent {
  return content.type === 'edit' || content.type === 'delete' || content.type === 'reaction';
}

/** The content types a chat shows as a message of their own. */
export type ShownContent = Exclude<AnyContent, ActionContent | { type: 'receipt' } | { type: 'channel-key' }>;

/** What a shown content puts in the message a device keeps (text, file, sticker, quote, forwarded mark). */
export function shownMessage(
  content: ShownContent,
): Pick<StoredMessage, 'sentAtMs' | 'text' | 'file' | 'sticker' | 'replyTo' | 'forwarded'> {
  switch (content.type) {
    case 'text':
      return { sentAtMs: content.sentAtMs, text: content.text };
    case 'file':
      return { sentAtMs: content.sentAtMs, text: '', file: content.file };
    case 'sticker':
      return { sentAtMs: content.sentAtMs, text: '', sticker: content.sticker };
    case 'reply':
      return { sentAtMs: content.sentAtMs, text: content.text, replyTo: content.replyTo };
    case 'forward':
      return {
        sentAtMs: content.sentAtMs,
        text: content.text,
        ...(content.file ? { file: content.file } : {}),
        forwarded: content.from,
      };
  }
}
