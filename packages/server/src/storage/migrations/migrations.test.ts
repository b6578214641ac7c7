import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../../test/support/postgres.ts';
import type { Database } from '../schema.ts';
import { migrateToLatest } from './migrations.ts';

const ALL = ['001-core', '002-privacy', '003-transparency', '004-legal', '005-desk', '006-legal-holds'];

describe('migrations', () => {
  it('apply once on SQLite, and a second run changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-migrate-'));
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(join(dir, 'db')) }),
    });
    try {
      expect(await migrateToLatest(db, 'sqlite')).toEqual({
        applied: ALL,
      });
      expect(await migrateToLatest(db, 'sqlite')).toEqual({ applied: [] });
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('apply once on PostgreSQL, and two nodes migrating at once do not collide', async () => {
    const { url, drop } = await createTestDatabase();
    const open = () =>
      new Kysely<Database>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
      });
    const [one, two] = [open(), open()];
    try {
      const reports = await Promise.all([migrateToLatest(one, 'postgres'), migrateToLatest(two, 'postgres')]);
      expect(reports.flatMap((r) => r.applied)).toEqual(ALL);
      expect(await migrateToLatest(one, 'postgres')).toEqual({ applied: [] });
    } finally {
      await one.destroy();
      await two.destroy();
      await drop();
    }
  });
});
