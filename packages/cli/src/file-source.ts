import { openAsBlob } from 'node:fs';
import { open } from 'node:fs/promises';
import { CourierError } from '@courier/protocol';
import { blobSource, type PlaintextSource } from '@courier/sdk';

/**
 * A file to send, read lazily in the pieces the upload asks for (never the whole file in memory):
 * as a Blob (`fs.openAsBlob`), and with `readInto`, so that an upload reads each slice into its one
 * reused plaintext buffer instead of a fresh allocation per slice (encrypting-source.ts).
 */
export async function fileSource(path: string): Promise<PlaintextSource> {
  const blob = await openAsBlob(path);
  return {
    ...blobSource(blob),
    readInto: async (offset, target) => {
      const handle = await open(path, 'r');
      try {
        for (let at = 0; at < target.length; ) {
          const { bytesRead } = await handle.read(target, at, target.length - at, offset + at);
          if (bytesRead === 0)
            throw new CourierError('MEDIA_LENGTH_INVALID', {
              message: `${path} became shorter while it was being sent.`,
            });
          at += bytesRead;
        }
      } finally {
        await handle.close();
      }
    },
  };
}
