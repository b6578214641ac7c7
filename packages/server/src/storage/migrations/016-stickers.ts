import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Sticker packs (issue 16): public by nature. A pack has a unique short name (its link), a title
 * and an owner; each sticker has an index that is never reused in its pack (messages refer to it),
 * an emoji, and what its image is (content hash, type, size, frames). The images themselves are in
 * the sticker blob store, named by their hash.
 */
export function stickersMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('sticker_packs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('short_name', 'text', (c) => c.notNull().unique())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('owner_account_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('next_index', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema
        .createIndex('sticker_packs_owner')
        .on('sticker_packs')
        .column('owner_account_id')
        .execute();
      await db.schema
        .createTable('stickers')
        .addColumn('pack_id', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('emoji', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('mime', 'text', (c) => c.notNull())
        .addColumn('width', 'integer', (c) => c.notNull())
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('frames', 'integer', (c) => c.notNull())
        .addColumn('bytes', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('stickers_pk', ['pack_id', 'idx'])
        .execute();
      await db.schema.createIndex('stickers_hash').on('stickers').column('content_hash').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('stickers').execute();
      await db.schema.dropTable('sticker_packs').execute();
    },
  };
}
