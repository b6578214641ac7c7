import { readFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Migration, Migrator, NO_MIGRATIONS, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequiredTestDatabase, temporarySqlitePath } from '../contract/adapters.ts';
import type { Database } from '../schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
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
import { migrateToLatest } from './migrations.ts';

/**
 * The one set of migrations on both SQL dialects: each applies once, in order; a second run does
 * nothing; two nodes starting at once do not collide; an older database is brought up to date with
 * its rows; every migration can be undone; and the tables they make are exactly what schema.ts
 * (the Kysely Database type every store is written against) says, column by column.
 */

const MIGRATIONS = [
  '001-core',
  '002-privacy',
  '003-transparency',
  '004-legal',
  '005-desk',
  '006-legal-holds',
  '008-export-jobs',
  '009-mls',
  '010-desk-hardening',
  '011-auth-codes',
  '012-consent',
  '013-reports',
  '014-media',
  '015-channels',
  '016-stickers',
  '017-channel-media',
  '018-media-grants',
  '019-desk-credentials',
  '020-channel-description',
  '021-pg-group-append',
];

/** The same migrations by name, to move a database to a chosen version (migrations.ts keeps its own list). */
function migrationsByName(dialect: SqlDialectName): Record<string, Migration> {
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

const migrator = (db: Kysely<Database>, dialect: SqlDialectName) =>
  new Migrator({
    db,
    provider: { getMigrations: async () => migrationsByName(dialect) },
  });

interface Column {
  /** number, string or bytes */
  kind: 'number' | 'string' | 'bytes';
  nullable: boolean;
}
type Schema = Record<string, Record<string, Column>>;

/** The tables and columns that schema.ts declares, read from its text. */
function declaredSchema(): Schema {
  const text = readFileSync(new URL('../schema.ts', import.meta.url), 'utf8');
  const interfaces = new Map<string, string>();
  for (const m of text.matchAll(/export interface (\w+) \{\n([\s\S]*?)\n\}/g)) interfaces.set(m[1]!, m[2]!);
  const properties = (body: string) =>
    [...body.matchAll(/^ {2}(\w+): ([^;]+);$/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
  const database = interfaces.get('Database');
  if (!database) throw new Error('schema.ts has no Database interface');
  const schema: Schema = {};
  for (const [table, interfaceName] of properties(database)) {
    const body = interfaces.get(interfaceName);
    if (!body) throw new Error(`schema.ts: ${interfaceName} (table ${table}) is not declared`);
    schema[table] = {};
    for (const [column, type] of properties(body)) {
      const parts = type.split('|').map((p) => p.trim());
      const base = parts.filter((p) => p !== 'null');
      if (base.length !== 1) throw new Error(`schema.ts: ${table}.${column} has an unexpected type ${type}`);
      const kind = { number: 'number', string: 'string', Uint8Array: 'bytes' }[base[0]!];
      if (!kind) throw new Error(`schema.ts: ${table}.${column} has an unexpected type ${type}`);
      schema[table][column] = { kind: kind as Column['kind'], nullable: parts.includes('null') };
    }
  }
  return schema;
}

const kindOfSqlType = (type: string): Column['kind'] | `unknown ${string}` => {
  const t = type.toLowerCase();
  if (t === 'bigint' || t === 'integer') return 'number';
  if (t === 'text') return 'string';
  if (t === 'blob' || t === 'bytea') return 'bytes';
  return `unknown ${t}`;
};

const MIGRATOR_TABLES = new Set(['kysely_migration', 'kysely_migration_lock']);

/** The tables and columns that really exist, from the database's own catalog. */
async function actualSchema(db: Kysely<Database>, dialect: SqlDialectName): Promise<Schema> {
  const schema: Schema = {};
  const put = (table: string, column: string, type: string, nullable: boolean) => {
    if (MIGRATOR_TABLES.has(table)) return;
    schema[table] ??= {};
    schema[table][column] = { kind: kindOfSqlType(type) as Column['kind'], nullable };
  };
  if (dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`
      SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`.execute(db);
    for (const { name } of tables.rows) {
      const columns = await sql<{ name: string; type: string; notnull: number; pk: number }>`
        SELECT name, type, "notnull", pk FROM pragma_table_info(${name})`.execute(db);
      // A primary-key column is not null in what the stores write (SQLite would take NULL there).
      for (const c of columns.rows) put(name, c.name, c.type, c.notnull === 0 && c.pk === 0);
    }
  } else {
    const columns = await sql<{
      table_name: string;
      column_name: string;
      data_type: string;
      is_nullable: string;
    }>`
      SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = current_schema()`.execute(db);
    for (const c of columns.rows) put(c.table_name, c.column_name, c.data_type, c.is_nullable === 'YES');
  }
  return schema;
}

/** Names of applied migrations, as the migrator recorded them. */
/** The migrations the database records as applied (none when even the record table was undone). */
async function recorded(db: Kysely<Database>): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === 'kysely_migration')) return [];
  const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
  return rows.rows.map((r) => r.name);
}

interface FreshDatabase {
  /** A new connection pool (or handle) on the same database, as a second node would open. */
  open(): Kysely<Database>;
  drop(): Promise<void>;
}

const freshDatabases: Record<SqlDialectName, () => Promise<FreshDatabase>> = {
  sqlite: async () => {
    const file = temporarySqlitePath();
    return {
      open: () =>
        new Kysely<Database>({
          dialect: new SqliteDialect({ database: new BetterSqlite3(file.path) }),
        }),
      drop: async () => file.remove(),
    };
  },
  postgres: async () => {
    const db = await createRequiredTestDatabase();
    return {
      open: () =>
        new Kysely<Database>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }),
        }),
      drop: db.drop,
    };
  },
};

describe('schema.ts as read by this test', () => {
  it('declares every table of the Database interface with typed columns', () => {
    const schema = declaredSchema();
    expect(Object.keys(schema)).toContain('group_entries');
    expect(schema.group_entries).toMatchObject({
      seq: { kind: 'number', nullable: false },
      payload: { kind: 'bytes', nullable: false },
    });
    expect(schema.accounts?.username).toEqual({ kind: 'string', nullable: true });
    expect(Object.keys(schema).length).toBeGreaterThanOrEqual(20);
  });
});

describe.each<SqlDialectName>(['sqlite', 'postgres'])('migrations on %s', (dialect) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  // SQLite: Kysely runs migrations there without a transaction or lock; migrations.ts runs them
  // inside BEGIN IMMEDIATE (transactional DDL, and the write lock serialises processes).
  const fresh = async () => {
    const database = await freshDatabases[dialect]();
    cleanups.push(database.drop);
    return {
      open: () => {
        const db = database.open();
        cleanups.push(() => db.destroy());
        return db;
      },
    };
  };

  it('apply every migration once, in order, from 001-core; a second run applies nothing', async () => {
    const db = (await fresh()).open();
    expect(await migrateToLatest(db, dialect)).toEqual({ applied: MIGRATIONS });
    expect(await recorded(db)).toEqual(MIGRATIONS);
    expect(await migrateToLatest(db, dialect)).toEqual({ applied: [] });
    expect(await recorded(db)).toEqual(MIGRATIONS);
  });

  it('make exactly the tables and columns schema.ts declares, with its types and nullability', async () => {
    const db = (await fresh()).open();
    await migrateToLatest(db, dialect);
    const actual = await actualSchema(db, dialect);
    const declared = declaredSchema();
    // Table lists first, for a readable failure; then every column of every table.
    expect(Object.keys(actual).sort()).toEqual(Object.keys(declared).sort());
    for (const table of Object.keys(declared)) {
      expect({ table, columns: actual[table] }).toEqual({ table, columns: declared[table] });
    }
  });

  it('let nodes that start together migrate at once without applying anything twice', async () => {
    const database = await fresh();
    const nodes = [database.open(), database.open(), database.open()];
    const reports = await Promise.all(nodes.map((db) => migrateToLatest(db, dialect)));
    expect(reports.flatMap((r) => r.applied).sort()).toEqual(MIGRATIONS);
    expect(await recorded(nodes[0]!)).toEqual(MIGRATIONS);
  });

  it('bring a database made by 001-core up to date, keeping its rows and filling the new columns', async () => {
    const db = (await fresh()).open();
    const { error } = await migrator(db, dialect).migrateTo('001-core');
    expect(error).toBeUndefined();
    expect(await recorded(db)).toEqual(['001-core']);
    await sql`INSERT INTO accounts (id, phone, username, username_key, display_name, created_at, last_seen_day)
      VALUES ('u_old', '+442071234567', 'Old_Timer', 'old_timer', 'Old', ${2 ** 41}, NULL)`.execute(db);
    expect(await migrateToLatest(db, dialect)).toEqual({ applied: MIGRATIONS.slice(1) });
    const row = await db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', 'u_old')
      .executeTakeFirstOrThrow();
    expect({
      ...row,
      created_at: Number(row.created_at),
      self_destruct_months: Number(row.self_destruct_months),
    }).toEqual({
      id: 'u_old',
      phone: '+442071234567',
      username: 'Old_Timer',
      username_key: 'old_timer',
      display_name: 'Old',
      created_at: 2 ** 41,
      last_seen_day: null,
      phone_visibility: 'contacts',
      phone_discovery: 'everybody',
      last_seen_visibility: 'contacts',
      self_destruct_months: 6,
      group_add: 'contacts',
    });
  });

  it('012-consent turns the unasked side of every existing direct chat into a message request', async () => {
    const db = (await fresh()).open();
    expect((await migrator(db, dialect).migrateTo('011-auth-codes')).error).toBeUndefined();
    for (const [id, phone] of [
      ['u_opener', '+442071111111'],
      ['u_asked', '+442072222222'],
    ] as const) {
      await sql`INSERT INTO accounts (id, phone, display_name, created_at) VALUES (${id}, ${phone}, '', 1)`.execute(
        db,
      );
    }
    await sql`INSERT INTO groups (id, kind, title, created_by, created_at, last_seq, member_count, direct_key)
      VALUES ('g_direct', 'direct', '', 'u_opener', 1, 1, 2, 'u_asked:u_opener'),
             ('g_group', 'group', 'Club', 'u_opener', 1, 1, 2, NULL)`.execute(db);
    await sql`INSERT INTO group_members (group_id, account_id, role, joined_at, joined_seq)
      VALUES ('g_direct', 'u_opener', 'member', 1, 1), ('g_direct', 'u_asked', 'member', 1, 1),
             ('g_group', 'u_opener', 'owner', 1, 1), ('g_group', 'u_asked', 'member', 1, 1)`.execute(db);
    expect(await migrateToLatest(db, dialect)).toEqual({
      applied: MIGRATIONS.slice(MIGRATIONS.indexOf('012-consent')),
    });
    const rows = await db
      .selectFrom('group_members')
      .select(['group_id', 'account_id', 'consent'])
      .orderBy('group_id')
      .orderBy('account_id')
      .execute();
    expect(rows.map((r) => `${r.group_id} ${r.account_id} ${r.consent}`)).toEqual([
      'g_direct u_asked pending',
      'g_direct u_opener accepted',
      'g_group u_asked accepted',
      'g_group u_opener accepted',
    ]);
  });

  it('can all be undone, leaving no table behind, and applied again to the same schema', async () => {
    const db = (await fresh()).open();
    await migrateToLatest(db, dialect);
    const before = await actualSchema(db, dialect);
    const down = await migrator(db, dialect).migrateTo(NO_MIGRATIONS);
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
      [...MIGRATIONS].reverse().map((name) => [name, 'Down', 'Success']),
    );
    expect(await actualSchema(db, dialect)).toEqual({});
    expect(await migrateToLatest(db, dialect)).toEqual({ applied: MIGRATIONS });
    expect(await actualSchema(db, dialect)).toEqual(before);
  });

  it('undo a migration that fails halfway, so that it simply runs again once the cause is gone', async () => {
    const db = (await fresh()).open();
    // Something already holds the name of the last table 001-core makes: it fails after making
    // all the others.
    await sql`CREATE TABLE mailbox (unrelated text)`.execute(db);
    const failure = await migrateToLatest(db, dialect).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('Database migration failed');
    expect(String((failure as Error).cause)).toMatch(/mailbox/);
    expect(await recorded(db)).toEqual([]);
    await sql`DROP TABLE mailbox`.execute(db);
    expect(await migrateToLatest(db, dialect)).toEqual({ applied: MIGRATIONS });
  });
});
