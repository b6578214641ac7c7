import { type Kysely, sql } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/** Accounts, devices, sessions, codes, connection records, groups, the group logs and mailboxes. */
export function coreMigration(dialect: SqlDialectName) {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('phone', 'text', (c) => c.notNull().unique())
        .addColumn('username', 'text')
        .addColumn('username_key', 'text', (c) => c.unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_day', 'bigint')
        .execute();
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint')
        .addColumn('mailbox_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('devices_account').on('devices').column('account_id').execute();
      await db.schema
        .createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_device').on('sessions').column('device_id').execute();
      await db.schema
        .createTable('auth_codes')
        .addColumn('phone', 'text', (c) => c.primaryKey())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('intent', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('rate_limits')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('connections')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('connections_pk', ['device_id', 'ip'])
        .execute();
      await db.schema.createIndex('connections_account').on('connections').column('account_id').execute();
      await db.schema.createIndex('connections_last_seen').on('connections').column('last_seen').execute();
      await db.schema
        .createTable('groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('direct_key', 'text', (c) => c.unique())
        .execute();
      await db.schema
        .createTable('group_members')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('joined_at', 'bigint', (c) => c.notNull())
        .addColumn('joined_seq', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'account_id'])
        .execute();
      await db.schema.createIndex('group_members_account').on('group_members').column('account_id').execute();
      await db.schema
        .createTable('group_entries')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('sender_account_id', 'text', (c) => c.notNull())
        .addColumn('sender_device_id', 'text', (c) => c.notNull())
        .addColumn('client_msg_id', 'text', (c) => c.notNull())
        .addColumn('payload', sql.raw(bytes), (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_entries_pk', ['group_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('group_entries_idempotency')
        .on('group_entries')
        .columns(['sender_device_id', 'client_msg_id', 'group_id'])
        .unique()
        .execute();
      await db.schema.createIndex('group_entries_created').on('group_entries').column('created_at').execute();
      await db.schema
        .createTable('device_cursors')
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('acked_seq', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_cursors_pk', ['device_id', 'group_id'])
        .execute();
      await db.schema.createIndex('device_cursors_group').on('device_cursors').column('group_id').execute();
      await db.schema
        .createTable('mailbox')
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('sender_account_id', 'text', (c) => c.notNull())
        .addColumn('sender_device_id', 'text', (c) => c.notNull())
        .addColumn('client_msg_id', 'text', (c) => c.notNull())
        .addColumn('payload', sql.raw(bytes), (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('mailbox_pk', ['device_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('mailbox_idempotency')
        .on('mailbox')
        .columns(['sender_device_id', 'client_msg_id', 'device_id'])
        .unique()
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'mailbox',
        'device_cursors',
        'group_entries',
        'group_members',
        'groups',
        'connections',
        'rate_limits',
        'auth_codes',
        'sessions',
        'devices',
        'accounts',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
