import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * The desk's hardening (issue 11): a decline's reason kept in the case record (never in the log),
 * staff accounts that can be disabled, the last TOTP time step each account used (a code counts
 * once), the client address on audit entries (failed logins are audited), and failed logins by
 * hashed username and by hashed client address, for throttling.
 */
export function deskHardeningMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('legal_cases').addColumn('decline_reason', 'text').execute();
      await db.schema.alterTable('desk_accounts').addColumn('disabled_at', 'bigint').execute();
      await db.schema.alterTable('desk_accounts').addColumn('totp_last_step', 'bigint').execute();
      await db.schema.alterTable('desk_audit').addColumn('ip', 'text').execute();
      await db.schema
        .createIndex('desk_sessions_expires_at')
        .on('desk_sessions')
        .column('expires_at')
        .execute();
      await db.schema
        .createTable('desk_login_failures')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('desk_login_failures_key_at')
        .on('desk_login_failures')
        .columns(['key', 'at'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('desk_login_failures').execute();
      await db.schema.dropIndex('desk_sessions_expires_at').execute();
      await db.schema.alterTable('desk_audit').dropColumn('ip').execute();
      await db.schema.alterTable('desk_accounts').dropColumn('totp_last_step').execute();
      await db.schema.alterTable('desk_accounts').dropColumn('disabled_at').execute();
      await db.schema.alterTable('legal_cases').dropColumn('decline_reason').execute();
    },
  };
}
