import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StorageAdapter, storageAdapters } from './contract/adapters.ts';
import { Fixtures } from './contract/fixtures.ts';
import type { MediaBlobRow, Storage } from './ports.ts';

/**
 * The channel media bindings (issue 16, migration 017) on every adapter: a blob bound to a channel
 * is claimed by one post of that channel at most, listed per post and per channel, found unclaimed
 * by age, released; and the chat-media retention query never takes a blob a channel binds.
 */
describe.each(storageAdapters)('channel media store on $name', (adapter: StorageAdapter) => {
  let storage: Storage;
  let f: Fixtures;
  let dispose: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const opened = await adapter.open();
    storage = opened.storage;
    dispose = opened.dispose;
    f = new Fixtures(storage);
  });
  afterAll(async () => {
    await dispose?.();
  });

  const blob = (groupId: string, overrides: Partial<MediaBlobRow> = {}): MediaBlobRow => ({
    id: randomBytes(16).toString('hex'),
    groupId,
    uploaderAccountId: 'u_uploader',
    size: 1016,
    createdAt: 1_000,
    completedAt: 2_000,
    ...overrides,
  });

  it('binds, claims for one post only, lists per post and channel, and releases', async () => {
    const channel = f.id('c');
    const other = f.id('c');
    const [a, b, c] = [blob(channel), blob(channel), blob(other)];
    for (const [row, channelId] of [
      [a, channel],
      [b, channel],
      [c, other],
    ] as const) {
      await storage.mediaBlobs.insert(row);
      await storage.channelMedia.bind({ blobId: row.id, channelId, postId: null, boundAt: 1_000 });
    }
    expect(await storage.channelMedia.byBlob(a.id)).toStrictEqual({
      blobId: a.id,
      channelId: channel,
      postId: null,
      boundAt: 1_000,
    });
    expect(await storage.channelMedia.byBlob('0'.repeat(32))).toBeUndefined();
    expect(await storage.channelMedia.claim(channel, a.id, 'post-1')).toBe(true);
    // The same post again (a retry) is fine; another post, or another channel, is not.
    expect(await storage.channelMedia.claim(channel, a.id, 'post-1')).toBe(true);
    expect(await storage.channelMedia.claim(channel, a.id, 'post-2')).toBe(false);
    expect(await storage.channelMedia.claim(channel, c.id, 'post-1')).toBe(false);
    expect(await storage.channelMedia.claim(channel, '0'.repeat(32), 'post-1')).toBe(false);
    expect(await storage.channelMedia.byPost(channel, 'post-1')).toEqual([a.id]);
    expect(await storage.channelMedia.byPost(other, 'post-1')).toEqual([]);
    expect(await storage.channelMedia.byChannel(channel)).toEqual([a.id, b.id].sort());
    await storage.channelMedia.release([a.id, b.id]);
    expect(await storage.channelMedia.byChannel(channel)).toEqual([]);
    expect(await storage.channelMedia.byBlob(c.id)).toBeDefined();
    await storage.channelMedia.release([c.id]);
    await storage.mediaBlobs.delete([a.id, b.id, c.id]);
  });

  it('finds blobs no post carries by age; chat retention leaves bound blobs to their post', async () => {
    const channel = f.id('c');
    const [unposted, young, posted] = [blob(channel), blob(channel), blob(channel)];
    await storage.transaction(async (tx) => {
      for (const [row, at] of [
        [unposted, 1_000],
        [young, 9_000],
        [posted, 1_000],
      ] as const) {
        await tx.mediaBlobs.insert(row);
        await tx.channelMedia.bind({ blobId: row.id, channelId: channel, postId: null, boundAt: at });
      }
    });
    await storage.channelMedia.claim(channel, posted.id, 'p');
    const unclaimed = await storage.channelMedia.unclaimedBefore(5_000);
    expect(unclaimed).toContain(unposted.id);
    expect(unclaimed).not.toContain(young.id);
    expect(unclaimed).not.toContain(posted.id);
    // No chat log names a channel: only the binding keeps these from the chat-media sweep.
    const swept = await storage.mediaBlobs.unreferencedBefore(5_000);
    expect(swept).not.toContain(posted.id);
    expect(swept).not.toContain(unposted.id);
    // Once a binding is gone (its channel deleted mid-way), the record is swept like any orphan.
    await storage.channelMedia.release([posted.id]);
    expect(await storage.mediaBlobs.unreferencedBefore(5_000)).toContain(posted.id);
  });

  it('binds inside a transaction that fails: nothing is kept', async () => {
    const channel = f.id('c');
    const row = blob(channel);
    await expect(
      storage.transaction(async (tx) => {
        await tx.mediaBlobs.insert(row);
        await tx.channelMedia.bind({ blobId: row.id, channelId: channel, postId: null, boundAt: 1 });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await storage.channelMedia.byBlob(row.id)).toBeUndefined();
    expect(await storage.mediaBlobs.byId(row.id)).toBeUndefined();
  });
});
