import type { Kysely, Selectable } from 'kysely';
import type { StickerPackRow, StickerRow, StickerStore } from '../ports.ts';
import type { Database, StickerPacksTable, StickersTable } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const toPack = (r: Selectable<StickerPacksTable>): StickerPackRow => ({
  id: r.id,
  shortName: r.short_name,
  title: r.title,
  ownerAccountId: r.owner_account_id,
  createdAt: Number(r.created_at),
});

const toSticker = (r: Selectable<StickersTable>): StickerRow => ({
  packId: r.pack_id,
  index: Number(r.idx),
  emoji: r.emoji,
  hash: r.content_hash,
  mime: r.mime,
  width: Number(r.width),
  height: Number(r.height),
  frames: Number(r.frames),
  bytes: Number(r.bytes),
  createdAt: Number(r.created_at),
});

export class KyselyStickerStore implements StickerStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createPack(row: StickerPackRow): Promise<boolean> {
    try {
      await this.db
        .insertInto('sticker_packs')
        .values({
          id: row.id,
          short_name: row.shortName,
          title: row.title,
          owner_account_id: row.ownerAccountId,
          created_at: row.createdAt,
          next_index: 1,
        })
        .execute();
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async packByShortName(shortName: string): Promise<StickerPackRow | undefined> {
    const row = await this.db
      .selectFrom('sticker_packs')
      .selectAll()
      .where('short_name', '=', shortName)
      .executeTakeFirst();
    return row ? toPack(row) : undefined;
  }

  async packsOf(ownerAccountId: string): Promise<StickerPackRow[]> {
    const rows = await this.db
      .selectFrom('sticker_packs')
      .selectAll()
      .where('owner_account_id', '=', ownerAccountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toPack);
  }

  async countPacksOf(ownerAccountId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sticker_packs')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('owner_account_id', '=', ownerAccountId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async stickersOf(packId: string): Promise<StickerRow[]> {
    const rows = await this.db
      .selectFrom('stickers')
      .selectAll()
      .where('pack_id', '=', packId)
      .orderBy('idx')
      .execute();
    return rows.map(toSticker);
  }

  async takeIndex(packId: string): Promise<number | undefined> {
    const taken = await this.db
      .updateTable('sticker_packs')
      .set((eb) => ({ next_index: eb('next_index', '+', 1) }))
      .where('id', '=', packId)
      .returning('next_index')
      .executeTakeFirst();
    return taken ? Number(taken.next_index) - 1 : undefined;
  }

  async countStickers(packId: string): Promise<number> {
    const count = await this.db
      .selectFrom('stickers')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('pack_id', '=', packId)
      .executeTakeFirst();
    return Number(count?.n ?? 0);
  }

  async insertSticker(row: StickerRow): Promise<void> {
    await this.db
      .insertInto('stickers')
      .values({
        pack_id: row.packId,
        idx: row.index,
        emoji: row.emoji,
        content_hash: row.hash,
        mime: row.mime,
        width: row.width,
        height: row.height,
        frames: row.frames,
        bytes: row.bytes,
        created_at: row.createdAt,
      })
      .execute();
  }

  async deleteSticker(packId: string, index: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('stickers')
      .where('pack_id', '=', packId)
      .where('idx', '=', index)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deletePack(packId: string): Promise<void> {
    await this.db.deleteFrom('stickers').where('pack_id', '=', packId).execute();
    await this.db.deleteFrom('sticker_packs').where('id', '=', packId).execute();
  }

  async byHash(hash: string): Promise<StickerRow | undefined> {
    const row = await this.db
      .selectFrom('stickers')
      .selectAll()
      .where('content_hash', '=', hash)
      .limit(1)
      .executeTakeFirst();
    return row ? toSticker(row) : undefined;
  }
}
