import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { kyselyStorage } from '../kysely/kysely-storage.ts';
import { migrateToLatest } from '../migrations/migrations.ts';
import type { Storage } from '../ports.ts';
import type { Database } from '../schema.ts';
import { StatementCache } from './statement-cache.ts';

export interface SqliteOptions {
  /** A file path, or ':memory:' for tests. */
  path: string;
}

/** SQLite in WAL mode; a commit returns only once it is on disk (synchronous = FULL). */
export async function openSqliteStorage(options: SqliteOptions): Promise<Storage> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const database = new BetterSqlite3(options.path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  // Erased personal data is overwritten, not just unlinked (DESIGN P10).
  database.pragma('secure_delete = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new StatementCache(database) }) });
  await migrateToLatest(db, 'sqlite');
  return kyselyStorage(db, 'sqlite', () => db.destroy());
}
