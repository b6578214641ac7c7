import { type Kysely, sql } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/** Desk accounts (staff and authorities), their sessions, documents, and the staff action log. */
export function deskMigration(dialect: SqlDialectName) {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('desk_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('totp_secret', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('country', 'text')
        .addColumn('authority_kind', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('desk_sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) =>
          c.notNull().references('desk_accounts.id').onDelete('cascade'),
        )
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('desk_audit')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('case_id', 'text')
        .execute();
      await db.schema.createIndex('desk_audit_at').on('desk_audit').column('at').execute();
      await db.schema
        .createTable('legal_documents')
        .addColumn('case_id', 'text', (c) => c.primaryKey().references('legal_cases.id').onDelete('cascade'))
        .addColumn('content', sql.raw(bytes), (c) => c.notNull())
        .execute();
      await db.schema.alterTable('legal_cases').addColumn('authority_id', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('legal_cases').dropColumn('authority_id').execute();
      for (const t of ['legal_documents', 'desk_audit', 'desk_sessions', 'desk_accounts'])
        await db.schema.dropTable(t).execute();
    },
  };
}
