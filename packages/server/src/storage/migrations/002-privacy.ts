import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/** Privacy settings per account, and the record of which privacy-policy versions each accepted. */
export function privacyMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('accounts')
        .addColumn('phone_visibility', 'text', (c) => c.notNull().defaultTo('contacts'))
        .execute();
      await db.schema
        .alterTable('accounts')
        .addColumn('phone_discovery', 'text', (c) => c.notNull().defaultTo('everybody'))
        .execute();
      await db.schema
        .alterTable('accounts')
        .addColumn('last_seen_visibility', 'text', (c) => c.notNull().defaultTo('contacts'))
        .execute();
      await db.schema
        .alterTable('accounts')
        .addColumn('self_destruct_months', 'integer', (c) => c.notNull().defaultTo(6))
        .execute();
      await db.schema
        .createTable('policy_acceptances')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('accepted_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_acceptances_pk', ['account_id', 'version'])
        .execute();
      await db.schema.createIndex('accounts_last_seen_day').on('accounts').column('last_seen_day').execute();
      await db.schema.createIndex('sessions_last_used').on('sessions').column('last_used_at').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('sessions_last_used').execute();
      await db.schema.dropIndex('accounts_last_seen_day').execute();
      await db.schema.dropTable('policy_acceptances').execute();
      for (const column of [
        'self_destruct_months',
        'last_seen_visibility',
        'phone_discovery',
        'phone_visibility',
      ]) {
        await db.schema.alterTable('accounts').dropColumn(column).execute();
      }
    },
  };
}
