import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';
import type { Database } from '../schema.ts';
import { coreMigration } from './001-core.ts';
import { privacyMigration } from './002-privacy.ts';
import { transparencyMigration } from './003-transparency.ts';
import { legalMigration } from './004-legal.ts';
import { deskMigration } from './005-desk.ts';
import { legalHoldsMigration } from './006-legal-holds.ts';
import { mlsMigration } from './009-mls.ts';

/** The one ordered set of migrations, shared by every SQL adapter. */
function allMigrations(dialect: SqlDialectName): Record<string, Migration> {
  return {
    '001-core': coreMigration(dialect),
    '002-privacy': privacyMigration(dialect),
    '003-transparency': transparencyMigration(dialect),
    '004-legal': legalMigration(dialect),
    '005-desk': deskMigration(dialect),
    '006-legal-holds': legalHoldsMigration(dialect),
    '009-mls': mlsMigration(dialect),
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
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new Error('Database migration failed', { cause: error });
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
