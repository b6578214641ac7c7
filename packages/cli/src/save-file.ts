import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { downloadDecryptedFile, type FileDescriptor, type MediaEndpoint } from '@courier/sdk';
import { ProgressBar } from './progress-bar.ts';
import { printable } from './terminal-text.ts';

/**
 * Fetches a file's ciphertext and decrypts it as it arrives into `path` (default: the sender's file
 * name in the current folder), with a progress bar on stderr; the digest in the file's description
 * is checked at the end (by the SDK). Ctrl-C cancels; a damaged or cancelled file is removed, not kept.
 */
export async function saveDecryptedFile(
  endpoint: MediaEndpoint,
  file: FileDescriptor,
  path: string | undefined,
): Promise<{ target: string; sha256: string }> {
  // The sender chose the name: only its last part is used, never a path.
  const target = resolve(path ?? (basename(file.name).replace(/^\.+/, '') || file.blobId));
  const bar = new ProgressBar(printable(basename(target)));
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const hash = createHash('sha256');
  try {
    const stream = downloadDecryptedFile(endpoint, file, {
      signal: controller.signal,
      onProgress: (done, total) => bar.update(done, total),
    });
    const out = createWriteStream(target, { mode: 0o600 });
    try {
      for await (const chunk of stream) {
        hash.update(chunk);
        if (!out.write(chunk)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
  } catch (error) {
    await rm(target, { force: true });
    throw error;
  } finally {
    bar.finish();
    process.off('SIGINT', onSignal);
  }
  return { target, sha256: hash.digest('base64') };
}
