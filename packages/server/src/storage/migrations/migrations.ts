import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';
import type { Database } from '../schema.ts';
import { coreMigration } from './001-core.ts';
import { privacyMigration } from './002-privacy.ts';
import { transparencyMigration } from './003-transparency.ts';
import { legalMigration } from './004-legal.ts';
import { deskMigration } from './005-desk.ts';
import { legalHoldsMigration } from './006-legal-holds.ts';
import { exportJobsMigration } from './008-export-jobs.ts';
import { mlsMigration } from './009-mls.ts';
import { deskHardeningMigration } from './010-desk-hardening.ts';
import { authCodesMigration } from './011-auth-codes.ts';
import { consentMigration } from './012-consent.ts';
import { reportsMigration } from './013-reports.ts';
import { mediaMigration } from './014-media.ts';
import { channelsMigration } from './015-channels.ts';
import { stickersMigration } from './016-stickers.ts';
import { channelMediaMigration } from './017-channel-media.ts';
import { mediaGrantsMigration } from './018-media-grants.ts';
import { deskCredentialsMigration } from './019-desk-credentials.ts';
import { channelDescriptionMigration } from './020-channel-description.ts';
import { pgGroupAppendMigration } from './021-pg-group-append.ts';

/** The one ordered set of migrations, shared by every SQL adapter. */
function allMigrations(dialect: SqlDialectName): Record<string, Migration> {
  return {
    '001-core': coreMigration(dialect),
    '002-privacy': privacyMigration(dialect),
    '003-transparency': transparencyMigration(dialect),
    '004-legal': legalMigration(dialect),
    '005-desk': deskMigration(dialect),
    '006-legal-holds': legalHoldsMigration(dialect),
    '008-export-jobs': exportJobsMigration(dialect),
    '009-mls': mlsMigration(dialect),
    '010-desk-hardening': deskHardeningMigration(dialect),
    '011-auth-codes': authCodesMigration(dialect),
    '012-consent': consentMigration(dialect),
    '013-reports': reportsMigration(dialect),
    '014-media': mediaMigration(dialect),
    '015-channels': channelsMigration(dialect),
    '016-stickers': stickersMigration(dialect),
    '017-channel-media': channelMediaMigration(dialect),
    '018-media-grants': mediaGrantsMigration(dialect),
    '019-desk-credentials': deskCredentialsMigration(dialect),
    '020-channel-description': channelDescriptionMigration(dialect),
    '021-pg-group-append': pgGroupAppendMigration(dialect),
  };
}

class InCodeMigrations implements MigrationProvider {
  constructor(private readonly dialect: SqlDialectName) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return allMigrations(this.dialect);
  }
}

export interface MigrationReport {
  applied: string[];
}

/** Brings the schema to the newest version; throws with the failing migration's error as cause. */
export async function migrateToLatest(
  db: Kysely<Database>,
  dialect: SqlDialectName,
): Promise<MigrationReport> {
  // Parallel branches add migrations with their own numbers; each is independent of the others, so a
  // database that already has a later one still takes an earlier one that arrives afterwards.
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrations(dialect),
    allowUnorderedMigrations: true,
  });
  const run = () => migrator.migrateToLatest();
  const { error, results } = dialect === 'sqlite' ? await inSqliteWriteTransaction(db, run) : await run();
  if (error) throw new Error('Database migration failed', { cause: error });
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

const isBusy = (error: unknown) => (error as { code?: string } | undefined)?.code === 'SQLITE_BUSY';

/**
 * Kysely runs SQLite migrations without a transaction and without a lock. SQLite's DDL is
 * transactional, so the migrator runs inside `BEGIN IMMEDIATE`: a migration that fails (or a
 * process killed) halfway leaves nothing behind, and the write lock makes a second process (or a
 * second connection) wait and then find the migrations applied. The lock is waited for without
 * blocking the event loop (busy_timeout 0 while trying), so connections of one process can take
 * turns too.
 */
async function inSqliteWriteTransaction<T extends { error?: unknown }>(
  db: Kysely<Database>,
  work: () => Promise<T>,
): Promise<T> {
  const previous = (await sql<{ timeout: number }>`PRAGMA busy_timeout`.execute(db)).rows[0]?.timeout ?? 0;
  await sql`PRAGMA busy_timeout = 0`.execute(db);
  try {
    for (;;) {
      try {
        await sql`BEGIN IMMEDIATE`.execute(db);
        break;
      } catch (error) {
        if (!isBusy(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
      }
    }
  } finally {
    await sql.raw(`PRAGMA busy_timeout = ${Number(previous)}`).execute(db);
  }
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await sql`ROLLBACK`.execute(db);
    throw error;
  }
  await sql.raw(result.error === undefined ? 'COMMIT' : 'ROLLBACK').execute(db);
  return result;
}
