import { type Kysely, sql } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * The MLS delivery service (DESIGN §5): device credentials with their certificates, published key
 * packages, each group's epoch and leaf map, the public ratchet trees served to joiners, and the kind
 * of a mailbox item (a device's bytes or a Welcome). Public keys and ciphertext only: no private key.
 */
export function mlsMigration(dialect: SqlDialectName) {
  const bytes = sql.raw(dialect === 'postgres' ? 'bytea' : 'blob');
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('device_credentials')
        .addColumn('device_id', 'text', (c) => c.primaryKey().references('devices.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('signature_key', bytes, (c) => c.notNull())
        .addColumn('certificate', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('device_credentials_account')
        .on('device_credentials')
        .column('account_id')
        .execute();
      await db.schema
        .createTable('key_packages')
        .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id').onDelete('cascade'))
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('package', bytes, (c) => c.notNull())
        .addColumn('last_resort', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('key_packages_pk', ['device_id', 'ref'])
        .execute();
      await db.schema
        .createTable('mls_groups')
        .addColumn('group_id', 'text', (c) => c.primaryKey().references('groups.id').onDelete('cascade'))
        .addColumn('epoch', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('mls_leaves')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('leaf_index', 'integer', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mls_leaves_pk', ['group_id', 'leaf_index'])
        .execute();
      await db.schema.createIndex('mls_leaves_device').on('mls_leaves').column('device_id').execute();
      await db.schema
        .createTable('mls_trees')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('epoch', 'bigint', (c) => c.notNull())
        .addColumn('tree', bytes, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('mls_trees_pk', ['group_id', 'epoch'])
        .execute();
      await db.schema
        .alterTable('mailbox')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('device'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('mailbox').dropColumn('kind').execute();
      for (const table of ['mls_trees', 'mls_leaves', 'mls_groups', 'key_packages', 'device_credentials'])
        await db.schema.dropTable(table).execute();
    },
  };
}
