import { Readable } from 'node:stream';
import {
  CourierError,
  type CreateStickerPackBody,
  isStickerEmoji,
  isStickerShortName,
  MAX_STICKER_PACK_TITLE_LENGTH,
  type StickerMime,
  type StickerPackView,
  type StickerView,
  UNSAFE_TEXT_PATTERN,
} from '@courier/protocol';
import { Upload } from '@tus/utils';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { BlobStore } from '../media/ports.ts';
import type { Principal } from '../services/auth-service.ts';
import type { StickerPackRow, StickerRow, Storage } from '../storage/ports.ts';
import { checkStickerImage } from './sticker-image.ts';

/** What the image route answers. */
export type StickerImageReply =
  | { status: 200; headers: Record<string, string>; body: Readable }
  | { status: 304; headers: Record<string, string> };

const HASH = /^[a-f0-9]{64}$/;
/** Images are named in the blob store by the first 128 bits of their SHA-256 (its blob-id shape). */
const blobIdOf = (hash: string) => hash.slice(0, 32);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** An image named by its content never changes: a year, immutable (RFC 8246). */
export const STICKER_CACHE_CONTROL = 'public, max-age=31536000, immutable';

const stickerView = (r: StickerRow): StickerView => ({
  index: r.index,
  emoji: r.emoji,
  hash: r.hash,
  mime: r.mime as StickerMime,
  width: r.width,
  height: r.height,
  frames: r.frames,
  bytes: r.bytes,
});

/**
 * Sticker packs (issue 16). Packs and images are public: anyone may fetch a pack by its short name
 * and an image by its hash; only the owner adds or deletes. Uploads are checked by content
 * (sticker-image.ts) before anything is stored. Images are content-addressed, so one image in
 * several packs is stored once and removed when the last sticker showing it goes.
 */
export class StickerService {
  constructor(
    private readonly storage: Storage,
    private readonly blobs: BlobStore,
    private readonly config: Config['stickers'],
    private readonly clock: Clock,
    private readonly random: (bytes: number) => Uint8Array,
    private readonly logger: Logger,
  ) {}

  async createPack(principal: Principal, body: CreateStickerPackBody): Promise<StickerPackView> {
    if (!isStickerShortName(body.shortName)) throw new CourierError('STICKER_PACK_NAME_INVALID');
    const title = typeof body.title === 'string' ? body.title.trim() : '';
    if (title.length === 0 || title.length > MAX_STICKER_PACK_TITLE_LENGTH || UNSAFE_TEXT_PATTERN.test(title))
      throw new CourierError('STICKER_PACK_TITLE_INVALID');
    const owned = await this.storage.stickers.countPacksOf(principal.accountId);
    if (owned >= this.config.maxPacksPerAccount)
      throw new CourierError('STICKER_PACK_LIMIT', { details: { maxPacks: this.config.maxPacksPerAccount } });
    const row: StickerPackRow = {
      id: hex(this.random(16)),
      shortName: body.shortName,
      title,
      ownerAccountId: principal.accountId,
      createdAt: this.clock.now(),
    };
    if (!(await this.storage.stickers.createPack(row))) throw new CourierError('STICKER_PACK_NAME_TAKEN');
    return { ...this.packView(row), stickers: [] };
  }

  /** A pack with its stickers, to anyone (packs are public). */
  async pack(shortName: string): Promise<StickerPackView> {
    const row = await this.packRow(shortName);
    const stickers = await this.storage.stickers.stickersOf(row.id);
    return { ...this.packView(row), stickers: stickers.map(stickerView) };
  }

  /** The packs an account owns, with their stickers. */
  async packsOf(accountId: string): Promise<StickerPackView[]> {
    const rows = await this.storage.stickers.packsOf(accountId);
    const views: StickerPackView[] = [];
    for (const row of rows)
      views.push({
        ...this.packView(row),
        stickers: (await this.storage.stickers.stickersOf(row.id)).map(stickerView),
      });
    return views;
  }

  /** Checks an image by its content and adds it to the owner's pack under the next index. */
  async addSticker(
    principal: Principal,
    shortName: string,
    emoji: unknown,
    declaredMime: string | undefined,
    bytes: Uint8Array,
  ): Promise<StickerView> {
    const pack = await this.ownPack(principal, shortName);
    if (!isStickerEmoji(emoji)) throw new CourierError('STICKER_EMOJI_INVALID');
    const image = await checkStickerImage(bytes, declaredMime, this.config);
    const row = await this.storage.transaction(async (tx) => {
      // Taking the index first locks the pack (its row in PostgreSQL, the database in SQLite), so
      // two uploads to one pack get different indexes and the count below holds.
      const index = await tx.stickers.takeIndex(pack.id);
      if (index === undefined) throw new CourierError('STICKER_PACK_NOT_FOUND');
      if ((await tx.stickers.countStickers(pack.id)) >= this.config.maxStickersPerPack)
        throw new CourierError('STICKER_PACK_FULL', {
          details: { maxStickers: this.config.maxStickersPerPack },
        });
      const sticker: StickerRow = {
        packId: pack.id,
        index,
        emoji,
        hash: image.hash,
        mime: image.mime,
        width: image.width,
        height: image.height,
        frames: image.frames,
        bytes: bytes.length,
        createdAt: this.clock.now(),
      };
      await tx.stickers.insertSticker(sticker);
      return sticker;
    });
    try {
      await this.storeImage(image.hash, bytes);
    } catch (error) {
      await this.storage.stickers.deleteSticker(pack.id, row.index);
      throw error;
    }
    return stickerView(row);
  }

  async deleteSticker(principal: Principal, shortName: string, index: number): Promise<void> {
    const pack = await this.ownPack(principal, shortName);
    const sticker = (await this.storage.stickers.stickersOf(pack.id)).find((s) => s.index === index);
    if (!sticker || !(await this.storage.stickers.deleteSticker(pack.id, index)))
      throw new CourierError('STICKER_NOT_FOUND');
    await this.forgetImages([sticker.hash]);
  }

  async deletePack(principal: Principal, shortName: string): Promise<void> {
    const pack = await this.ownPack(principal, shortName);
    await this.removePack(pack);
  }

  /** Erasure: the packs an account owns go with it (those who added them see the emoji instead). */
  async eraseAccount(accountId: string): Promise<number> {
    const packs = await this.storage.stickers.packsOf(accountId);
    for (const pack of packs) await this.removePack(pack);
    return packs.length;
  }

  /** A sticker image by its content hash, with strong cache headers; 304 when the client has it. */
  async image(hash: string, ifNoneMatch: string | undefined): Promise<StickerImageReply> {
    const row = HASH.test(hash) ? await this.storage.stickers.byHash(hash) : undefined;
    if (!row) throw new CourierError('STICKER_NOT_FOUND');
    const etag = `"${hash}"`;
    const cacheHeaders = { etag, 'cache-control': STICKER_CACHE_CONTROL };
    if (ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*'))
      return { status: 304, headers: cacheHeaders };
    const body = await this.blobs.read(blobIdOf(hash), 0, row.bytes - 1).catch((cause: unknown) => {
      this.logger.error({ hash, err: cause }, 'sticker image missing from its store');
      throw new CourierError('STICKER_NOT_FOUND', { cause });
    });
    return {
      status: 200,
      headers: {
        ...cacheHeaders,
        'content-type': row.mime,
        'content-length': String(row.bytes),
        // Public images, safe to show in any page that embeds them.
        'cross-origin-resource-policy': 'cross-origin',
      },
      body,
    };
  }

  async close(): Promise<void> {
    await this.blobs.close();
  }

  private packView(row: StickerPackRow): Omit<StickerPackView, 'stickers'> {
    return {
      shortName: row.shortName,
      title: row.title,
      ownerAccountId: row.ownerAccountId,
      createdAt: row.createdAt,
    };
  }

  private async packRow(shortName: string): Promise<StickerPackRow> {
    const row = isStickerShortName(shortName)
      ? await this.storage.stickers.packByShortName(shortName)
      : undefined;
    if (!row) throw new CourierError('STICKER_PACK_NOT_FOUND');
    return row;
  }

  private async ownPack(principal: Principal, shortName: string): Promise<StickerPackRow> {
    const row = await this.packRow(shortName);
    if (row.ownerAccountId !== principal.accountId) throw new CourierError('STICKER_NOT_OWNER');
    return row;
  }

  private async removePack(pack: StickerPackRow): Promise<void> {
    const hashes = (await this.storage.stickers.stickersOf(pack.id)).map((s) => s.hash);
    await this.storage.stickers.deletePack(pack.id);
    await this.forgetImages(hashes);
  }

  /** Writes an image under its hash unless the store has it already (the same image in two packs). */
  private async storeImage(hash: string, bytes: Uint8Array): Promise<void> {
    const id = blobIdOf(hash);
    if ((await this.blobs.storedBytes(id)) === bytes.length) return;
    await this.blobs.remove(id);
    await this.blobs.uploads.create(new Upload({ id, size: bytes.length, offset: 0, metadata: {} }));
    await this.blobs.uploads.write(Readable.from([Buffer.from(bytes)]), id, 0);
  }

  /** Removes the images no sticker shows any more (the records are gone first). */
  private async forgetImages(hashes: readonly string[]): Promise<void> {
    for (const hash of new Set(hashes)) {
      if (await this.storage.stickers.byHash(hash)) continue;
      await this.blobs.remove(blobIdOf(hash));
    }
  }
}
