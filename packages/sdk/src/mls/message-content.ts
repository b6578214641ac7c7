import { CourierError } from '@courier/protocol';
import { type FileDescriptor, parseFileDescriptor } from '../media/file-descriptor.ts';

/**
 * What travels inside an MLS application message: the one format every client reads. Versioned
 * JSON (UTF-8); unknown types are shown as unsupported, never dropped silently.
 */
export type MessageContent =
  | { v: 1; type: 'text'; text: string; sentAtMs: number }
  /** A file sent with `SecureClient.sendFile` (media/): pointer, key, digest and preview. */
  | { v: 1; type: 'file'; file: FileDescriptor; sentAtMs: number };

export const MAX_TEXT_LENGTH = 16_384;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeContent(content: MessageContent): Uint8Array {
  if (content.type === 'file') {
    return encoder.encode(
      JSON.stringify({
        v: 1,
        type: 'file',
        file: parseFileDescriptor(content.file),
        sentAtMs: content.sentAtMs,
      }),
    );
  }
  if (content.text.length === 0 || content.text.length > MAX_TEXT_LENGTH)
    throw new CourierError('REQ_INVALID', { message: `A message has 1 to ${MAX_TEXT_LENGTH} characters.` });
  return encoder.encode(JSON.stringify(content));
}

/** Throws CourierError MLS_MALFORMED for anything that is not a well-formed content object. */
export function decodeContent(bytes: Uint8Array): MessageContent {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw new CourierError('MLS_MALFORMED', { message: 'The message content is not UTF-8 JSON.', cause });
  }
  const v = value as Partial<Extract<MessageContent, { type: 'text' }>> | null;
  const file = value as Partial<Extract<MessageContent, { type: 'file' }>> | null;
  if (
    file?.type === 'file' &&
    file.v === 1 &&
    typeof file.sentAtMs === 'number' &&
    Number.isSafeInteger(file.sentAtMs)
  ) {
    return { v: 1, type: 'file', file: parseFileDescriptor(file.file), sentAtMs: file.sentAtMs };
  }
  if (
    typeof v !== 'object' ||
    v === null ||
    v.v !== 1 ||
    v.type !== 'text' ||
    typeof v.text !== 'string' ||
    v.text.length > MAX_TEXT_LENGTH ||
    typeof v.sentAtMs !== 'number' ||
    !Number.isSafeInteger(v.sentAtMs)
  ) {
    throw new CourierError('MLS_MALFORMED', { message: 'The message content has an unknown shape.' });
  }
  return { v: 1, type: 'text', text: v.text, sentAtMs: v.sentAtMs };
}
