import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/** Legal-desk cases and their approvals (the log holds only public leaves about them). */
export function legalMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('legal_cases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('document_sha256', 'text', (c) => c.notNull())
        .addColumn('commitment_salt', 'text', (c) => c.notNull())
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('package', 'text')
        .addColumn('closed_at', 'bigint')
        .execute();
      await db.schema
        .createTable('legal_approvals')
        .addColumn('case_id', 'text', (c) => c.notNull().references('legal_cases.id').onDelete('cascade'))
        .addColumn('staff_id', 'text', (c) => c.notNull())
        .addColumn('approved_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('legal_approvals_pk', ['case_id', 'staff_id'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('legal_approvals').execute();
      await db.schema.dropTable('legal_cases').execute();
    },
  };
}
