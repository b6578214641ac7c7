import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Media grants (issue 14, forward): a blob uploaded to one chat may be bound to further chats by a
 * member of both (a forwarded photo, video or file), so that the forwarded message's members can fetch
 * it without a second copy of the ciphertext. One row per further chat: who granted it and when (a
 * blob lives while any bound chat's log can still hold a message that points at it).
 */
export function mediaGrantsMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('media_blob_chats')
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('granted_by_account_id', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('media_blob_chats_pk', ['blob_id', 'group_id'])
        .execute();
      await db.schema
        .createIndex('media_blob_chats_group')
        .on('media_blob_chats')
        .columns(['group_id', 'granted_at'])
        .execute();
      await db.schema
        .createIndex('media_blob_chats_granter')
        .on('media_blob_chats')
        .column('granted_by_account_id')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('media_blob_chats').execute();
    },
  };
}
