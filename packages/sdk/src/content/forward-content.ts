import { CourierError } from '@courier/protocol';
import { type FileDescriptor, parseFileDescriptor } from '../media/file-descriptor.ts';
import type { ContentType } from './content-type.ts';
import { MAX_TEXT_LENGTH } from './text-content.ts';

const MAX_ID = 128;

/**
 * A message forwarded from another chat: its text, or its file (photo, video, voice note, any
 * file), encrypted again for this chat by the forwarding client (the server never holds a copy to
 * pass on), with who wrote it first and when. A file keeps its pointer, key, digest and preview: the
 * forwarder bound the same blob to this chat first (POST /v1/media/:blobId/chats), so no bytes are
 * uploaded again.
 */
export interface ForwardContent {
  v: 1;
  type: 'forward';
  /** The forwarded text; empty for a forwarded file. */
  text: string;
  /** Set for a forwarded file (then `text` is empty). */
  file?: FileDescriptor;
  sentAtMs: number;
  from: { accountId: string; sentAtMs: number };
}

const reasonOf = (error: unknown) =>
  error instanceof CourierError ? error.message : 'The file description is malformed.';

export const forwardContent: ContentType<ForwardContent> = {
  type: 'forward',
  shown: true,
  parse(value) {
    const { text, sentAtMs } = value;
    let file: FileDescriptor | undefined;
    if (value.file !== undefined) {
      try {
        file = parseFileDescriptor(value.file);
      } catch (error) {
        return reasonOf(error);
      }
      if (text !== '') return 'A forwarded file carries no text.';
    } else if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT_LENGTH)
      return 'The text is missing or too long.';
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    const from = value.from as Record<string, unknown> | undefined;
    if (
      typeof from !== 'object' ||
      from === null ||
      typeof from.accountId !== 'string' ||
      from.accountId.length === 0 ||
      from.accountId.length > MAX_ID ||
      typeof from.sentAtMs !== 'number' ||
      !Number.isSafeInteger(from.sentAtMs)
    )
      return 'The forwarded message does not say who wrote it.';
    return {
      v: 1,
      type: 'forward',
      text: text as string,
      ...(file ? { file } : {}),
      sentAtMs,
      from: { accountId: from.accountId, sentAtMs: from.sentAtMs },
    };
  },
  check(content) {
    if (content.file !== undefined) {
      parseFileDescriptor(content.file);
      if (content.text !== '')
        throw new CourierError('REQ_INVALID', { message: 'A forwarded file carries no text.' });
    } else if (content.text.length === 0 || content.text.length > MAX_TEXT_LENGTH)
      throw new CourierError('REQ_INVALID', { message: `A message has 1 to ${MAX_TEXT_LENGTH} characters.` });
  },
};
