import { CourierError } from '@courier/protocol';
import { readContent, writeContent } from '../content/content-registry.ts';
import type { FileContent } from '../content/file-content.ts';
import { MAX_TEXT_LENGTH, type TextContent } from '../content/text-content.ts';

export { MAX_TEXT_LENGTH };

/**
 * What a person sends inside an MLS application message: versioned JSON (UTF-8). Every type lives in
 * `../content/` and is listed in its registry; `readContent` there reads any bytes without throwing
 * (unknown types come back as unsupported). These two functions are the view of what a person sends (texts and files).
 */
export type MessageContent = TextContent | FileContent;

export function encodeContent(content: MessageContent): Uint8Array {
  return writeContent(content);
}

/**
 * The text or file inside the bytes; throws CourierError MLS_MALFORMED for anything else (another
 * type, or no content at all). The SDK itself reads messages with `readContent`, which never throws.
 */
export function decodeContent(bytes: Uint8Array): MessageContent {
  const decoded = readContent(bytes);
  if (decoded.kind === 'known' && (decoded.content.type === 'text' || decoded.content.type === 'file'))
    return decoded.content;
  throw new CourierError('MLS_MALFORMED', {
    message:
      decoded.kind === 'unsupported'
        ? `The message content has a type this client does not read (${decoded.type}).`
        : decoded.kind === 'malformed'
          ? decoded.reason
          : 'The message content is not a text or a file.',
  });
}
