/**
 * Issue 16, stickers on the server, on SQLite and on PostgreSQL: packs created and read by short name, uploads checked by
 * content (a PNG sent as WebP, an oversized image, a non-image, too many frames are refused with
 * typed errors and nothing is stored; an animated WebP is accepted), images served with strong
 * cache headers, owner-only changes, a sticker message between two devices, export and erasure.
 */
import { STICKER_IMAGES_PATH, STICKER_PACKS_PATH } from '@courier/protocol';
import { StickerApi } from '@courier/sdk';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FsBlobStore } from '../packages/server/src/media/fs/fs-blob-store.ts';
import { collectAccountData } from '../packages/server/src/privacy/export-archive.ts';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { animatedWebp, jpeg, noisyPng, stillPng, stillWebp } from './support/sticker-images.ts';
import { failure } from './support/failure.ts';

const MAX_BYTES = 256 * 1024;

describe.each(['sqlite', 'postgres'] as const)('sticker packs on %s', (storage) => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let api: StickerApi;
  const storedImages = async () => (server.app.stickers as unknown as { blobs: FsBlobStore }).blobs.list();

  beforeAll(async () => {
    server = await startTestServer({
      storage,
      config: { stickers: { maxBytes: MAX_BYTES, maxFrames: 8 } },
    });
    [alice, bob] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    api = new StickerApi(alice.http);
  });
  afterAll(async () => server?.close());

  it('creates a pack, takes a still PNG, a still WebP and an animated WebP, and serves the pack to anyone', async () => {
    const created = await api.createPack('cats_pack', 'Cats');
    expect(created).toMatchObject({ shortName: 'cats_pack', title: 'Cats', stickers: [] });
    const png = await stillPng(512, 300);
    const first = await api.upload('cats_pack', png, 'image/png', '😀');
    expect(first).toMatchObject({
      index: 1,
      emoji: '😀',
      mime: 'image/png',
      width: 512,
      height: 300,
      frames: 1,
    });
    const webp = await stillWebp(200, 512);
    expect(await api.upload('cats_pack', webp, 'image/webp', '🐱')).toMatchObject({
      index: 2,
      mime: 'image/webp',
      width: 200,
      height: 512,
      frames: 1,
    });
    const animated = await animatedWebp(3);
    const third = await api.upload('cats_pack', animated, 'image/webp', '👍🏽');
    expect(third).toMatchObject({ index: 3, mime: 'image/webp', width: 512, height: 512, frames: 3 });

    // Public: no session needed to read the pack or its images.
    const anonymous = await fetch(new URL(`${STICKER_PACKS_PATH}/cats_pack`, server.url));
    expect(anonymous.status).toBe(200);
    const pack = await anonymous.json();
    expect(pack.stickers.map((s: { emoji: string }) => s.emoji)).toEqual(['😀', '🐱', '👍🏽']);

    const image = await fetch(new URL(`${STICKER_IMAGES_PATH}/${third.hash}`, server.url));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/webp');
    expect(image.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(image.headers.get('etag')).toBe(`"${third.hash}"`);
    const served = Buffer.from(await image.arrayBuffer());
    expect(served.equals(animated)).toBe(true);
    expect((await sharp(served, { animated: true }).metadata()).pages).toBe(3);
    const again = await fetch(new URL(`${STICKER_IMAGES_PATH}/${third.hash}`, server.url), {
      headers: { 'if-none-match': `"${third.hash}"` },
    });
    expect(again.status).toBe(304);
    expect((await fetch(new URL(`${STICKER_IMAGES_PATH}/${'0'.repeat(64)}`, server.url))).status).toBe(404);
    expect(await failure(new StickerApi(bob.http).pack('no_such_pack'))).toBe('STICKER_PACK_NOT_FOUND');
  });

  it('refuses by content: a PNG renamed .webp, oversized, too large, a non-image, JPEG, APNG, truncated, too many frames', async () => {
    await api.createPack('strict_pack', 'Strict');
    const before = await storedImages();
    const refused = async (bytes: Uint8Array, mime: string, emoji = '😀') =>
      failure(api.upload('strict_pack', bytes, mime, emoji));
    // A PNG whose name says .webp is uploaded as image/webp: the content says PNG.
    expect(await refused(await stillPng(), 'image/webp')).toBe('STICKER_TYPE_MISMATCH');
    expect(await refused(await stillWebp(), 'image/png')).toBe('STICKER_TYPE_MISMATCH');
    // Oversized in pixels, or no side of 512.
    expect(await refused(await stillPng(600, 512), 'image/png')).toBe('STICKER_DIMENSIONS_INVALID');
    expect(await refused(await stillPng(1024, 1024), 'image/png')).toBe('STICKER_DIMENSIONS_INVALID');
    expect(await refused(await stillPng(300, 300), 'image/png')).toBe('STICKER_DIMENSIONS_INVALID');
    // Oversized in bytes (the body is cut off at the limit).
    const big = await noisyPng();
    expect(big.length).toBeGreaterThan(MAX_BYTES);
    expect(await refused(big, 'image/png')).toBe('STICKER_TOO_LARGE');
    // Not an image at all, whatever it claims to be.
    expect(await refused(new TextEncoder().encode('just some text, not a picture'), 'image/webp')).toBe(
      'STICKER_NOT_IMAGE',
    );
    expect(await refused(new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3]), 'image/webp')).toBe(
      'STICKER_NOT_IMAGE',
    );
    // An image, but not a kind stickers take.
    expect(await refused(await jpeg(), 'image/jpeg')).toBe('STICKER_TYPE_UNSUPPORTED');
    expect(await refused(await stillPng(), 'application/octet-stream')).toBe('STICKER_TYPE_UNSUPPORTED');
    // An animated PNG: an acTL chunk after IHDR.
    const png = await stillPng();
    const actl = Buffer.from([0, 0, 0, 8, 0x61, 0x63, 0x54, 0x4c, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    const apng = Buffer.concat([png.subarray(0, 33), actl, png.subarray(33)]);
    expect(await refused(apng, 'image/png')).toBe('STICKER_TYPE_UNSUPPORTED');
    // Damaged: cut short.
    const animated = await animatedWebp(3);
    expect(await refused(animated.subarray(0, animated.length - 40), 'image/webp')).toBe('STICKER_NOT_IMAGE');
    expect(await refused(png.subarray(0, png.length - 30), 'image/png')).toBe('STICKER_NOT_IMAGE');
    // More frames than the server takes (maxFrames 8 here).
    expect(await refused(await animatedWebp(9, 512, 512, 50), 'image/webp')).toBe('STICKER_TOO_MANY_FRAMES');
    // A sticker is named by an emoji.
    expect(await refused(await stillPng(), 'image/png', 'cat')).toBe('STICKER_EMOJI_INVALID');
    // Nothing of all that was stored.
    expect((await api.pack('strict_pack')).stickers).toEqual([]);
    expect(await storedImages()).toEqual(before);
    // The same checks with a raw request (what a client other than the SDK sends), and with none.
    const raw = await fetch(
      new URL(`${STICKER_PACKS_PATH}/strict_pack/stickers?emoji=%F0%9F%98%80`, server.url),
      {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'image/webp' },
        body: new Uint8Array(await stillPng()),
      },
    );
    expect(raw.status).toBe(415);
    expect((await raw.json()).error.code).toBe('STICKER_TYPE_MISMATCH');
  });

  it('checks names and ownership; indexes are never reused; an image goes with its last sticker', async () => {
    expect(await failure(api.createPack('No Spaces', 'x'))).toBe('STICKER_PACK_NAME_INVALID');
    expect(await failure(api.createPack('ok_name', '   '))).toBe('STICKER_PACK_TITLE_INVALID');
    expect(await failure(api.createPack('ok_name', 'bad\u202etitle'))).toBe('STICKER_PACK_TITLE_INVALID');
    await api.createPack('dogs_pack', 'Dogs');
    expect(await failure(new StickerApi(bob.http).createPack('dogs_pack', 'Mine'))).toBe(
      'STICKER_PACK_NAME_TAKEN',
    );
    const image = await stillPng(512, 512, { r: 1, g: 2, b: 3, alpha: 1 });
    const one = await api.upload('dogs_pack', image, 'image/png', '🐶');
    const bobs = new StickerApi(bob.http);
    expect(await failure(bobs.upload('dogs_pack', image, 'image/png', '🐶'))).toBe('STICKER_NOT_OWNER');
    expect(await failure(bobs.deleteSticker('dogs_pack', one.index))).toBe('STICKER_NOT_OWNER');
    expect(await failure(bobs.deletePack('dogs_pack'))).toBe('STICKER_NOT_OWNER');
    // The same image in a second pack is stored once.
    await bobs.createPack('bobs_dogs', 'Bob’s dogs');
    await bobs.upload('bobs_dogs', image, 'image/png', '🐕');
    await api.deleteSticker('dogs_pack', one.index);
    expect(await failure(api.deleteSticker('dogs_pack', one.index))).toBe('STICKER_NOT_FOUND');
    const imageUrl = new URL(`${STICKER_IMAGES_PATH}/${one.hash}`, server.url);
    expect((await fetch(imageUrl)).status).toBe(200);
    const two = await api.upload('dogs_pack', await stillWebp(), 'image/webp', '🦴');
    expect(two.index).toBe(one.index + 1);
    await bobs.deletePack('bobs_dogs');
    expect((await fetch(imageUrl)).status).toBe(404);
    expect(await storedImages()).not.toContain(one.hash.slice(0, 32));
    expect(await failure(bobs.pack('bobs_dogs'))).toBe('STICKER_PACK_NOT_FOUND');
    expect((await alice.http.call<unknown[]>('GET', '/v1/me/sticker-packs')).length).toBeGreaterThan(0);
  });

  it('sends a sticker as a reference inside the end-to-end-encrypted message', async () => {
    await api.createPack('wave_pack', 'Waves');
    const sticker = await api.upload('wave_pack', await animatedWebp(2), 'image/webp', '👋');
    const [a, b] = await Promise.all([secureDevice(server, alice), secureDevice(server, bob)]);
    try {
      const group = await a.client.createGroup('stickers', [bob.accountId]);
      await b.joined(group.groupId);
      await a.client.sendSticker(group.groupId, { pack: 'wave_pack', index: sticker.index, emoji: '👋' });
      const [got] = await b.waitFor(group.groupId, 1);
      expect(got?.sticker).toEqual({ pack: 'wave_pack', index: sticker.index, emoji: '👋' });
      expect(got?.text).toBe('');
      const mine = await a.client.messages(group.groupId);
      expect(mine.at(-1)?.sticker).toEqual({ pack: 'wave_pack', index: sticker.index, emoji: '👋' });
      // The server's log holds no image bytes (the message is ciphertext of a small reference).
      const entries = await server.app.storage.entries.range(group.groupId, 0, 100);
      expect(entries.every((e) => e.payload.length < 4096)).toBe(true);
      await expect(
        a.client.sendSticker(group.groupId, { pack: 'Bad Pack', index: 1, emoji: '👋' }),
      ).rejects.toMatchObject({ code: 'REQ_INVALID' });
    } finally {
      await Promise.all([a.client.stop(), b.client.stop()]);
    }
  });

  it('lists owned packs in the export, and erases them with the account', async () => {
    const carol = await server.register(nextPhone());
    const carols = new StickerApi(carol.http);
    await carols.createPack('carol_pack', 'Carol');
    const s = await carols.upload(
      'carol_pack',
      await stillPng(512, 128, { r: 9, g: 9, b: 9, alpha: 1 }),
      'image/png',
      '🌵',
    );
    const data = await collectAccountData(server.app.storage, carol.accountId, Date.now(), 'x');
    expect(data.stickerPacks).toMatchObject([
      { shortName: 'carol_pack', title: 'Carol', stickers: [{ index: 1, emoji: '🌵', sha256: s.hash }] },
    ]);
    await carol.http.deleteAccount(carol.phone);
    expect(await failure(api.pack('carol_pack'))).toBe('STICKER_PACK_NOT_FOUND');
    expect((await fetch(new URL(`${STICKER_IMAGES_PATH}/${s.hash}`, server.url))).status).toBe(404);
    expect(await storedImages()).not.toContain(s.hash.slice(0, 32));
  });
});
