import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Reports and suspensions (issue 12): a report holds the messages its reporter chose to forward
 * (the one plaintext the server keeps, by the reporter's consent); a suspension is a two-staff
 * state per account; the session tokens a suspension ended are remembered by hash (until it is
 * lifted) so that a device presenting one hears ACCOUNT_SUSPENDED rather than "unknown token".
 * Erasing an account clears its name from reports (set null) and removes its suspension.
 */
export function reportsMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('reports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('reporter_account_id', 'text', (c) => c.references('accounts.id').onDelete('set null'))
        .addColumn('reported_account_id', 'text', (c) => c.references('accounts.id').onDelete('set null'))
        .addColumn('chat_id', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('messages', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('handled_by', 'text')
        .addColumn('handled_at', 'bigint')
        .execute();
      await db.schema.createIndex('reports_created_at').on('reports').column('created_at').execute();
      await db.schema.createIndex('reports_reporter').on('reports').column('reporter_account_id').execute();
      await db.schema.createIndex('reports_reported').on('reports').column('reported_account_id').execute();
      await db.schema
        .createTable('account_suspensions')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('report_id', 'text')
        .addColumn('proposed_by', 'text', (c) => c.notNull())
        .addColumn('proposed_at', 'bigint', (c) => c.notNull())
        .addColumn('suspended_at', 'bigint')
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('suspended_sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .execute();
      await db.schema
        .createIndex('suspended_sessions_account')
        .on('suspended_sessions')
        .column('account_id')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('suspended_sessions').execute();
      await db.schema.dropTable('account_suspensions').execute();
      await db.schema.dropTable('reports').execute();
    },
  };
}
