import { CourierError } from '@courier/protocol';
import { type FileDescriptor, parseFileDescriptor } from '../media/file-descriptor.ts';
import type { ContentType } from './content-type.ts';

/**
 * A file (photo, video, voice note, any file) sent with `SecureClient.sendFile`: the ciphertext was
 * uploaded with `uploadEncryptedFile`; this carries its pointer, key, digest and preview (media/).
 */
export interface FileContent {
  v: 1;
  type: 'file';
  file: FileDescriptor;
  sentAtMs: number;
}

const reasonOf = (error: unknown) =>
  error instanceof CourierError ? error.message : 'The file description is malformed.';

export const fileContent: ContentType<FileContent> = {
  type: 'file',
  shown: true,
  parse(value) {
    const { sentAtMs } = value;
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    try {
      return { v: 1, type: 'file', file: parseFileDescriptor(value.file), sentAtMs };
    } catch (error) {
      return reasonOf(error);
    }
  },
  check(content) {
    parseFileDescriptor(content.file);
  },
};
