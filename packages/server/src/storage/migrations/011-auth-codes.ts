import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Verification codes become one row per code sent, named by a random verification id that only the
 * requester learns (issue 11 items 3 and 5): a request for a number never replaces or spends a code
 * someone else asked for, attempts and consumption are single conditional writes on that row, and
 * the register/login intent is gone (the code decides after it is verified). Pending codes live
 * minutes, so the old table is dropped rather than converted: a code in flight during the upgrade
 * must be asked for again.
 */
export function authCodesMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('auth_codes').execute();
      await db.schema
        .createTable('auth_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('consumed_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('auth_codes_phone').on('auth_codes').column('phone').execute();
      await db.schema.createIndex('auth_codes_expires').on('auth_codes').column('expires_at').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('auth_codes').execute();
      await db.schema
        .createTable('auth_codes')
        .addColumn('phone', 'text', (c) => c.primaryKey())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('intent', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
