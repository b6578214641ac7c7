import { type Kysely, sql } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Broadcast channels (issue 16). A channel's posts are stored once (one row per post, its newest
 * revision) with a sequence number per channel; subscribers read them by cursor. A subscription is
 * (account, channel, cursor): nothing records who read which post, only a view counter per post that
 * goes up once when a subscription's cursor passes it. Invite links of private channels are kept as
 * the hash of their token.
 */
export function channelsMigration(dialect: SqlDialectName) {
  const bytes = sql.raw(dialect === 'postgres' ? 'bytea' : 'blob');
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('channels')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('visibility', 'text', (c) => c.notNull())
        .addColumn('owner_account_id', 'text', (c) => c.notNull())
        .addColumn('public_key', bytes, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('subscriber_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('channels_owner').on('channels').column('owner_account_id').execute();
      await db.schema
        .createTable('channel_admins')
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('channel_admins_pk', ['channel_id', 'account_id'])
        .execute();
      await db.schema
        .createIndex('channel_admins_account')
        .on('channel_admins')
        .column('account_id')
        .execute();
      await db.schema
        .createTable('channel_posts')
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('first_seq', 'bigint', (c) => c.notNull())
        .addColumn('post_id', 'text', (c) => c.notNull())
        .addColumn('revision', 'bigint', (c) => c.notNull())
        .addColumn('deleted', 'integer', (c) => c.notNull())
        .addColumn('payload', bytes, (c) => c.notNull())
        .addColumn('signature', bytes, (c) => c.notNull())
        .addColumn('author_account_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('edited_at', 'bigint')
        .addColumn('views', 'bigint', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('channel_posts_pk', ['channel_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('channel_posts_post_id')
        .on('channel_posts')
        .columns(['channel_id', 'post_id'])
        .unique()
        .execute();
      await db.schema
        .createIndex('channel_posts_first_seq')
        .on('channel_posts')
        .columns(['channel_id', 'first_seq'])
        .execute();
      await db.schema
        .createIndex('channel_posts_author')
        .on('channel_posts')
        .column('author_account_id')
        .execute();
      await db.schema
        .createTable('channel_subscriptions')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('cursor', 'bigint', (c) => c.notNull())
        .addColumn('subscribed_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('channel_subscriptions_pk', ['account_id', 'channel_id'])
        .execute();
      await db.schema
        .createIndex('channel_subscriptions_channel')
        .on('channel_subscriptions')
        .column('channel_id')
        .execute();
      await db.schema
        .createTable('channel_invites')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('channel_invites_channel')
        .on('channel_invites')
        .column('channel_id')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'channel_invites',
        'channel_subscriptions',
        'channel_posts',
        'channel_admins',
        'channels',
      ])
        await db.schema.dropTable(table).execute();
    },
  };
}
