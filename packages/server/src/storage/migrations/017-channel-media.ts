import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Media in channel posts (issue 16): a media blob uploaded to a channel (by its owner or an admin)
 * is bound to the channel here, and to the post that carries it once that post is stored. The
 * binding decides who may fetch it (anyone signed in for a public channel, subscribers and admins
 * for a private one; an admin only, before a post carries it), and its lifetime: the blob goes when
 * its post is deleted or edited to another file, when the channel goes, or, never posted, after
 * `media.blobTtlMs`. The blob's own record (`media_blobs`, its `group_id` holding the channel id)
 * keeps size, uploader and times as for chat media.
 */
export function channelMediaMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('channel_media')
        .addColumn('blob_id', 'text', (c) => c.primaryKey())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('post_id', 'text')
        .addColumn('bound_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('channel_media_post')
        .on('channel_media')
        .columns(['channel_id', 'post_id'])
        .execute();
      await db.schema
        .createIndex('channel_media_unclaimed')
        .on('channel_media')
        .columns(['post_id', 'bound_at'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('channel_media').execute();
    },
  };
}
