import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StorageAdapter, storageAdapters } from './contract/adapters.ts';
import { Fixtures } from './contract/fixtures.ts';
import type { StickerPackRow, StickerRow, Storage } from './ports.ts';

/**
 * Sticker packs and stickers (issue 16, migration 016) on every adapter, SQLite and PostgreSQL:
 * unique short names, packs per owner, sticker indexes taken once and never reused (also by
 * concurrent transactions), stickers listed in index order, found by image hash, deleted one by one
 * or with their pack.
 */
describe.each(storageAdapters)('sticker store on $name', (adapter: StorageAdapter) => {
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

  const pack = (overrides: Partial<StickerPackRow> = {}): StickerPackRow => ({
    id: f.id('p'),
    shortName: `pack_${randomBytes(5).toString('hex')}`,
    title: 'Pack',
    ownerAccountId: f.id('u'),
    createdAt: 1_000,
    ...overrides,
  });
  const sticker = (packId: string, index: number, overrides: Partial<StickerRow> = {}): StickerRow => ({
    packId,
    index,
    emoji: '😀',
    hash: randomBytes(32).toString('hex'),
    mime: 'image/webp',
    width: 512,
    height: 512,
    frames: 1,
    bytes: 12_345,
    createdAt: 2_000,
    ...overrides,
  });

  it('keeps short names unique and lists an owner’s packs in creation order', async () => {
    const owner = f.id('u');
    const first = pack({ ownerAccountId: owner, createdAt: 2_000 });
    const second = pack({ ownerAccountId: owner, createdAt: 1_000 });
    expect(await storage.stickers.createPack(first)).toBe(true);
    expect(await storage.stickers.createPack(second)).toBe(true);
    expect(await storage.stickers.createPack(pack({ shortName: first.shortName }))).toBe(false);
    expect(await storage.stickers.packByShortName(first.shortName)).toStrictEqual(first);
    expect(await storage.stickers.packByShortName('pack_none')).toBeUndefined();
    expect(await storage.stickers.packsOf(owner)).toStrictEqual([second, first]);
    expect(await storage.stickers.countPacksOf(owner)).toBe(2);
    expect(await storage.stickers.countPacksOf(f.id('u'))).toBe(0);
    // A refused name leaves the storage usable (on PostgreSQL a failed statement aborts only itself).
    expect(await storage.stickers.countPacksOf(owner)).toBe(2);
  });

  it('takes indexes once and never again, lists stickers in order, finds them by hash, deletes them', async () => {
    const row = pack();
    await storage.stickers.createPack(row);
    expect(await storage.stickers.takeIndex(row.id)).toBe(1);
    expect(await storage.stickers.takeIndex(row.id)).toBe(2);
    expect(await storage.stickers.takeIndex(f.id('p'))).toBeUndefined();
    const animated = sticker(row.id, 2, { frames: 8, mime: 'image/webp', bytes: 250_000, emoji: '🏳️‍🌈' });
    const still = sticker(row.id, 1, { mime: 'image/png' });
    await storage.stickers.insertSticker(animated);
    await storage.stickers.insertSticker(still);
    expect(await storage.stickers.stickersOf(row.id)).toStrictEqual([still, animated]);
    expect(await storage.stickers.countStickers(row.id)).toBe(2);
    expect(await storage.stickers.byHash(animated.hash)).toStrictEqual(animated);
    expect(await storage.stickers.byHash('0'.repeat(64))).toBeUndefined();

    expect(await storage.stickers.deleteSticker(row.id, 1)).toBe(true);
    expect(await storage.stickers.deleteSticker(row.id, 1)).toBe(false);
    // A deleted sticker's index is not handed out again: messages may still name it.
    expect(await storage.stickers.takeIndex(row.id)).toBe(3);
    expect(await storage.stickers.stickersOf(row.id)).toStrictEqual([animated]);

    await storage.stickers.deletePack(row.id);
    expect(await storage.stickers.packByShortName(row.shortName)).toBeUndefined();
    expect(await storage.stickers.stickersOf(row.id)).toEqual([]);
    expect(await storage.stickers.byHash(animated.hash)).toBeUndefined();
    expect(await storage.stickers.takeIndex(row.id)).toBeUndefined();
  });

  it('gives concurrent transactions distinct indexes, and a rolled-back one leaves no sticker', async () => {
    const row = pack();
    await storage.stickers.createPack(row);
    const taken = await Promise.all(
      Array.from({ length: 12 }, () =>
        storage.transaction(async (tx) => {
          const index = (await tx.stickers.takeIndex(row.id))!;
          await tx.stickers.insertSticker(sticker(row.id, index));
          return index;
        }),
      ),
    );
    expect([...taken].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await storage.stickers.countStickers(row.id)).toBe(12);
    await expect(
      storage.transaction(async (tx) => {
        const index = (await tx.stickers.takeIndex(row.id))!;
        await tx.stickers.insertSticker(sticker(row.id, index));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await storage.stickers.countStickers(row.id)).toBe(12);
    expect(await storage.stickers.takeIndex(row.id)).toBe(13);
  });
});
