import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/** Data-export jobs: a request, its progress, and the archive file it wrote (until it expires). */
export function exportJobsMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('export_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('progress', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('file', 'text')
        .addColumn('bytes', 'bigint')
        .addColumn('expires_at', 'bigint')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('export_jobs_account').on('export_jobs').column('account_id').execute();
      await db.schema.createIndex('export_jobs_state').on('export_jobs').column('state').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('export_jobs').execute();
    },
  };
}
