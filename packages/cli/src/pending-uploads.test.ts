import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CourierError } from '@courier/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandContext } from './context.ts';
import { resumableUpload, type UploadTarget } from './pending-uploads.ts';

/**
 * What `send-file` and `channel post --file` keep between runs: an upload cut off is resumed with its URL
 * and key, a channel post keeps its id and time (so the post is made once), an upload the server lost
 * starts afresh, and a finished one is forgotten.
 */
describe('resumable uploads in the CLI profile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-pending-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = { profile: { dir } } as unknown as CommandContext;
  const file = join(dir, 'photo.bin');
  writeFileSync(file, 'some bytes');
  const stat = statSync(file);
  const key = new Uint8Array(32).fill(7);

  type Call = { resume?: { uploadUrl: string; key: Uint8Array }; target: UploadTarget };

  async function attempt(where: { groupId: string } | { channelId: string }, fail?: CourierError | Error) {
    const calls: Call[] = [];
    const run = resumableUpload(ctx, file, stat, where, async ({ resume, onStarted, target }) => {
      calls.push({ ...(resume ? { resume } : {}), target });
      if (!resume) onStarted({ uploadUrl: `http://server/uploads/${calls.length}`, key });
      if (fail && calls.length === 1) throw fail;
      return 'done';
    });
    return { calls, result: await run.catch((error: unknown) => error) };
  }

  it('a channel post cut off goes on with the same upload, post id and time, then is forgotten', async () => {
    const first = await attempt({ channelId: 'ch1' }, new Error('network down'));
    expect(first.result).toBeInstanceOf(Error);
    const target = first.calls[0]!.target;
    expect('channel' in target && target.channel.channelId).toBe('ch1');

    const second = await attempt({ channelId: 'ch1' });
    expect(second.result).toBe('done');
    expect(second.calls).toEqual([{ resume: { uploadUrl: 'http://server/uploads/1', key }, target }]);

    // Done: a third run starts a new post.
    const third = await attempt({ channelId: 'ch1' });
    expect(third.calls[0]!.resume).toBeUndefined();
    const again = third.calls[0]!.target;
    expect('channel' in again && 'channel' in target && again.channel.postId).not.toBe(
      'channel' in target && target.channel.postId,
    );
  });

  it('the same file to a chat and to a channel are two uploads; an upload the server lost starts afresh', async () => {
    await attempt({ channelId: 'ch2' }, new Error('cut'));
    await attempt({ groupId: 'g1' }, new Error('cut'));
    const chat = await attempt({ groupId: 'g1' }, new CourierError('MEDIA_UPLOAD_NOT_FOUND'));
    expect(chat.result).toBe('done');
    expect(chat.calls.map((c) => c.resume?.uploadUrl)).toEqual(['http://server/uploads/1', undefined]);
    expect(chat.calls.map((c) => c.target)).toEqual([{ groupId: 'g1' }, { groupId: 'g1' }]);
    const channel = await attempt({ channelId: 'ch2' });
    expect(channel.calls[0]!.resume?.uploadUrl).toBe('http://server/uploads/1');
  });

  it('another error of a resumed upload is not retried and the record stays', async () => {
    await attempt({ groupId: 'g2' }, new Error('cut'));
    const denied = await attempt({ groupId: 'g2' }, new CourierError('MEDIA_QUOTA_EXCEEDED'));
    expect(denied.result).toBeInstanceOf(CourierError);
    expect(denied.calls).toHaveLength(1);
    const later = await attempt({ groupId: 'g2' });
    expect(later.calls[0]!.resume?.uploadUrl).toBe('http://server/uploads/1');
  });
});
