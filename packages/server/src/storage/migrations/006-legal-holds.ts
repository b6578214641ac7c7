import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/** What a legal obligation keeps of an erased account, until the case that names it is closed. */
export function legalHoldsMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('legal_holds')
        .addColumn('case_id', 'text', (c) => c.notNull().references('legal_cases.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('phone', 'text', (c) => c.notNull())
        .addColumn('ip_records', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('legal_holds_pk', ['case_id', 'account_id'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('legal_holds').execute();
    },
  };
}
