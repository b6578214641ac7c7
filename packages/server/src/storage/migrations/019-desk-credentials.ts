import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * A staff member changes their own TOTP secret (issue 13): the new secret waits here until a code
 * from it confirms it; until then the old secret stays the one that logs in.
 */
export function deskCredentialsMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('desk_accounts').addColumn('pending_totp_secret', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('desk_accounts').dropColumn('pending_totp_secret').execute();
    },
  };
}
