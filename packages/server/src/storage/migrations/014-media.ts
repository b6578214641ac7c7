import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Media blobs (issue 14): one row per uploaded file's ciphertext, tying the blob to the chat it was
 * uploaded to, the account that uploaded it (quota, export, erasure) and its upload time (a blob
 * lives while the chat's log can still hold a message that points at it). The ciphertext itself is
 * in the blob store (files under the data folder, or an S3 bucket), never in the database.
 */
export function mediaMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('media_blobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('uploader_account_id', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('media_blobs_uploader')
        .on('media_blobs')
        .column('uploader_account_id')
        .execute();
      await db.schema
        .createIndex('media_blobs_group')
        .on('media_blobs')
        .columns(['group_id', 'created_at'])
        .execute();
      await db.schema.createIndex('media_blobs_created').on('media_blobs').column('created_at').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('media_blobs').execute();
    },
  };
}
