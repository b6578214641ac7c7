import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { CourierError, decodeBase64, encodeBase64 } from '@courier/protocol';
import { newChannelPostId } from '@courier/sdk';
import { readJson, writeFileAtomic } from './atomic-file.ts';
import type { CommandContext } from './context.ts';

/** Where an upload goes: a chat's message, or a channel's post (its id and time kept, so it is made once). */
export type UploadTarget =
  | { groupId: string }
  | { channel: { channelId: string; postId: string; sentAtMs: number } };

/**
 * Uploads started and not finished, so that `send-file` and `channel post --file` after a crash or
 * Ctrl-C resume rather than restart: per file (path, size, modification time) and target, its upload
 * URL and key. The key is as secret as the device store beside it: the file is 0600 in the 0700
 * profile folder. Records written before channel posts could resume have a `groupId` only.
 */
interface PendingUpload {
  path: string;
  size: number;
  mtimeMs: number;
  groupId?: string;
  channel?: { channelId: string; postId: string; sentAtMs: number };
  uploadUrl: string;
  key: string;
}

function pendingFile(ctx: CommandContext): string {
  return join(ctx.profile.dir, 'pending-uploads.json');
}

function readPending(ctx: CommandContext): PendingUpload[] {
  return readJson<PendingUpload[]>(pendingFile(ctx)) ?? [];
}

function writePending(ctx: CommandContext, list: PendingUpload[]): void {
  writeFileAtomic(pendingFile(ctx), JSON.stringify(list));
}

type Resume = { uploadUrl: string; key: Uint8Array };
type Started = (started: Resume) => void;

/**
 * Runs `upload` for the file at `path` to a chat (`{groupId}`) or a channel (`{channelId}`): resuming the
 * unfinished upload of the same file to the same place if there is one (its URL and key; for a channel
 * also the post's id and time, handed to `upload`), starting afresh when the server no longer has it,
 * recording the upload as soon as the server created it, and forgetting it once `upload` (which also
 * sends the message or makes the post) succeeded.
 */
export async function resumableUpload<T>(
  ctx: CommandContext,
  path: string,
  stat: Stats,
  where: { groupId: string } | { channelId: string },
  upload: (options: { resume?: Resume; onStarted: Started; target: UploadTarget }) => Promise<T>,
): Promise<T> {
  const same = (p: PendingUpload) =>
    p.path === path &&
    p.size === stat.size &&
    p.mtimeMs === stat.mtimeMs &&
    ('groupId' in where ? p.groupId === where.groupId : p.channel?.channelId === where.channelId);
  const earlier = readPending(ctx).find(same);
  const earlierKey = earlier ? decodeBase64(earlier.key) : undefined;
  const target: UploadTarget =
    'groupId' in where
      ? { groupId: where.groupId }
      : {
          channel: earlier?.channel ?? {
            channelId: where.channelId,
            postId: newChannelPostId(),
            sentAtMs: Date.now(),
          },
        };
  const onStarted: Started = (started) =>
    writePending(ctx, [
      ...readPending(ctx).filter((p) => !same(p)),
      {
        path,
        size: stat.size,
        mtimeMs: stat.mtimeMs,
        ...target,
        uploadUrl: started.uploadUrl,
        key: encodeBase64(started.key),
      },
    ]);
  let result: T;
  try {
    result = await upload({
      ...(earlier && earlierKey ? { resume: { uploadUrl: earlier.uploadUrl, key: earlierKey } } : {}),
      onStarted,
      target,
    });
  } catch (error) {
    // The earlier upload expired or was removed: start again.
    if (!(earlier && error instanceof CourierError && error.code === 'MEDIA_UPLOAD_NOT_FOUND')) throw error;
    result = await upload({ onStarted, target });
  }
  writePending(
    ctx,
    readPending(ctx).filter((p) => !same(p)),
  );
  return result;
}
