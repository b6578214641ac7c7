import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CourierError } from '@courier/protocol';
import {
  describeUpload,
  type FileDescriptor,
  type SecureClient,
  type StoredMessage,
  type UploadedBlob,
  uploadEncryptedFile,
} from '@courier/sdk';

type SentFile = Awaited<ReturnType<SecureClient['sendFile']>>;
import type { CommandContext } from '../context.ts';
import { fileSource } from '../file-source.ts';
import { mimeOf } from '../mime.ts';
import { photoPreview } from '../photo-preview.ts';
import { resumableUpload } from '../pending-uploads.ts';
import { saveDecryptedFile } from '../save-file.ts';
import { humanBytes, ProgressBar } from '../progress-bar.ts';
import { resolveChat } from '../resolve.ts';
import { withSecureClient } from '../secure-session.ts';
import { printable } from '../terminal-text.ts';

/**
 * `courier send-file <chat> <path>`: encrypts the file with a fresh key, uploads the ciphertext
 * resumably (a progress bar on stderr), then sends name, type, size, key and digest (and, for a
 * photo, its dimensions and a thumbnail) to the chat inside an end-to-end-encrypted message. An upload cut off (network, Ctrl-C, crash) resumes where
 * it stopped when the same command runs again.
 */
export async function sendFile(ctx: CommandContext, chat: string, path: string): Promise<void> {
  const session = ctx.profile.requireSession();
  const absolute = resolve(path);
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(absolute);
  } catch (cause) {
    throw new CourierError('REQ_INVALID', { message: `Cannot read ${path}.`, cause });
  }
  if (!stat.isFile()) throw new CourierError('REQ_INVALID', { message: `${path} is not a file.` });
  await withSecureClient(ctx, async ({ client }) => {
    const group = await resolveChat(ctx.profile.http(), chat, (accountId) => client.openDirect(accountId));
    const bar = new ProgressBar(printable(basename(absolute)));
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    // Read lazily, in the chunks the upload asks for: never the whole file in memory.
    const source = await fileSource(absolute);
    const mime = mimeOf(absolute);
    let sent: { uploaded: UploadedBlob; descriptor: FileDescriptor; accepted: SentFile };
    try {
      sent = await resumableUpload(
        ctx,
        absolute,
        stat,
        { groupId: group.groupId },
        async ({ resume, onStarted }) => {
          const uploaded = await uploadEncryptedFile(
            { baseUrl: ctx.profile.server(), token: session.token },
            group.groupId,
            source,
            {
              signal: controller.signal,
              onProgress: (done, total) => bar.update(done, total),
              ...(resume ? { resume } : {}),
              onStarted,
            },
          );
          // A photo's thumbnail and size travel inside the message (shown before any download).
          const descriptor: FileDescriptor = {
            ...describeUpload(uploaded, basename(absolute), mime),
            ...(mime.startsWith('image/') ? await photoPreview(absolute) : {}),
          };
          return { uploaded, descriptor, accepted: await client.sendFile(group.groupId, descriptor) };
        },
      );
    } finally {
      bar.finish();
      process.off('SIGINT', onSignal);
    }
    const { uploaded, descriptor, accepted } = sent;
    if (ctx.json)
      ctx.io.out(
        JSON.stringify({ groupId: group.groupId, blobId: uploaded.blobId, size: uploaded.size, ...accepted }),
      );
    else
      ctx.io.out(
        `Sent ${printable(descriptor.name)} (${descriptor.mime}, ${humanBytes(descriptor.size)}) to ${printable(chat)} (#${accepted.seq}).`,
      );
  });
}

/** Finds a file message by its blob id (as `listen` shows it) or as `<chat id>#<number>`. */
function findFileMessage(messages: StoredMessage[], ref: string): StoredMessage | undefined {
  const bySeq = /^(.+)#(\d+)$/.exec(ref);
  return messages.find((m) =>
    bySeq ? m.groupId === bySeq[1] && m.seq === Number(bySeq[2]) : m.file?.blobId === ref.toLowerCase(),
  );
}

/**
 * `courier download <message> [path]`: fetches a file message's ciphertext and decrypts it as it
 * arrives into `path` (default: the sender's file name in the current folder), with a progress bar on
 * stderr; the SHA-256 in the message is checked at the end. A damaged file is removed, not kept.
 */
export async function download(ctx: CommandContext, ref: string, path: string | undefined): Promise<void> {
  const session = ctx.profile.requireSession();
  const store = ctx.profile.deviceStore();
  let message: StoredMessage | undefined;
  try {
    message = findFileMessage(store.fileMessages(), ref);
  } finally {
    store.close();
  }
  const file: FileDescriptor | undefined = message?.file;
  if (!file)
    throw new CourierError('MEDIA_NOT_FOUND', {
      message: `No file message ${ref} on this device (run \`courier listen\` to receive new ones).`,
    });
  const { target, sha256 } = await saveDecryptedFile(
    { baseUrl: ctx.profile.server(), token: session.token },
    file,
    path,
  );
  if (ctx.json) ctx.io.out(JSON.stringify({ path: target, size: file.size, mime: file.mime, sha256 }));
  else
    ctx.io.out(
      `Saved ${printable(file.name)} (${file.mime}, ${humanBytes(file.size)}) to ${printable(target)}.`,
    );
}
