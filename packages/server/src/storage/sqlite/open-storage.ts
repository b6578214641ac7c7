import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { ensurePrivateFile, restrictFile } from '../../files/private-files.ts';
import { kyselyStorage } from '../kysely/kysely-storage.ts';
import { migrateToLatest } from '../migrations/migrations.ts';
import type { Storage } from '../ports.ts';
import type { Database } from '../schema.ts';
import { BusyRetryingSqliteDialect } from './busy-retry-dialect.ts';
import { SqliteHotPath } from './hot-path.ts';
import { StatementCache } from './statement-cache.ts';

export interface SqliteOptions {
  /** A file path, or ':memory:' for tests. */
  path: string;
  /** How long a statement waits (off the event loop) for another process's lock; default 5 s. */
  busyWaitMs?: number;
}

/**
 * SQLite's own wait for a lock, which blocks the event loop: a few milliseconds at most. Longer
 * waits happen between retries, with the event loop free (BusyRetryingSqliteDialect).
 */
const LOOP_BLOCKING_BUSY_TIMEOUT_MS = 5;

/**
 * SQLite in WAL mode; a commit returns only once it is on disk (synchronous = FULL). The database
 * and its -wal/-shm files are 0600 in a 0700 folder (SQLite gives those the database's mode).
 */
export async function openSqliteStorage(options: SqliteOptions): Promise<Storage> {
  if (options.path !== ':memory:') ensurePrivateFile(options.path);
  const database = new BetterSqlite3(options.path);
  database.pragma(`busy_timeout = ${LOOP_BLOCKING_BUSY_TIMEOUT_MS}`);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  // Erased personal data is overwritten, not just unlinked (DESIGN P10).
  database.pragma('secure_delete = ON');
  if (options.path !== ':memory:') {
    for (const suffix of ['-wal', '-shm']) restrictFile(`${options.path}${suffix}`);
  }
  const db = new Kysely<Database>({
    dialect: new BusyRetryingSqliteDialect(
      { database: new StatementCache(database) },
      { waitMs: options.busyWaitMs ?? 5000 },
    ),
  });
  await migrateToLatest(db, 'sqlite');
  const hotPath = new SqliteHotPath(database);
  return kyselyStorage(
    db,
    'sqlite',
    () => db.destroy(),
    (stores) => hotPath.over(stores),
  );
}
