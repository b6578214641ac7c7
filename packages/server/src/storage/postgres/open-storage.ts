import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ensureDatabase } from './ensure-database.ts';
import { kyselyStorage } from '../kysely/kysely-storage.ts';
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db, 'postgres');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return kyselyStorage(db, 'postgres', () => db.destroy());
}
