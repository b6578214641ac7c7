import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ensureDatabase } from './ensure-database.ts';
import { kyselyStorage } from '../kysely/kysely-storage.ts';
import { appendGroupMessages } from './group-append.ts';
import { postgresHotPath } from './hot-path.ts';
import { migrateToLatest } from '../migrations/migrations.ts';
import type { Storage } from '../ports.ts';
import type { Database } from '../schema.ts';

export interface PostgresOptions {
  url: string;
  poolSize: number;
}

const INT8_OID = 20;

/** PostgreSQL through a pool; bigint columns come back as numbers (all our values are < 2^53). */
export async function openPostgresStorage(options: PostgresOptions): Promise<Storage> {
  await ensureDatabase(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A connection that PostgreSQL ends (a restart, a failover, pg_terminate_backend) emits 'error':
  // on the pool while it is idle, on the client itself while it is checked out (say, between two
  // statements of a transaction). Without a listener Node ends the process. The query in flight, or
  // the next one on that client, fails and is answered STORAGE_UNAVAILABLE; pg drops the broken
  // client from the pool on release and the next checkout opens a fresh connection.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db, 'postgres');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    ...kyselyStorage(db, 'postgres', () => db.destroy(), postgresHotPath),
    appendGroupMessages: (appends, now) => appendGroupMessages(pool, appends, now),
  };
}
