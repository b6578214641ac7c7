import fc from 'fast-check';
import { Kysely, type SqliteDatabase, type SqliteStatement, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { BusyRetryingSqliteDialect } from './busy-retry-dialect.ts';

/** A database whose statements meet another process's lock `busy` times, then answer. */
function lockedDatabase(busy: number, code = 'SQLITE_BUSY') {
  const seen = { attempts: 0, statements: [] as string[] };
  const database: SqliteDatabase = {
    close: () => undefined,
    prepare: (text: string) => {
      seen.attempts += 1;
      seen.statements.push(text);
      if (seen.attempts <= busy) throw Object.assign(new Error('database is locked'), { code });
      return {
        reader: text.startsWith('select'),
        all: () => [{ one: 1 }],
        run: () => ({ changes: 0, lastInsertRowid: 0 }),
        iterate: () => [][Symbol.iterator](),
      } as unknown as SqliteStatement;
    },
  };
  return { database, seen };
}

describe('waiting for a SQLite lock off the event loop', () => {
  it('retries a busy statement until it runs or the wait is spent, then SERVER_STORAGE_BUSY', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(60), fc.integer({ min: 1, max: 2000 }), async (busy, waitMs) => {
        const { database, seen } = lockedDatabase(busy);
        let slept = 0;
        const db = new Kysely<unknown>({
          dialect: new BusyRetryingSqliteDialect(
            { database },
            {
              waitMs,
              sleep: async (ms) => {
                expect(ms).toBeGreaterThan(0);
                slept += ms;
              },
            },
          ),
        });
        try {
          const result = await sql<{ one: number }>`select 1 as one`.execute(db).then(
            (r) => ({ ok: true as const, rows: r.rows }),
            (error: unknown) => ({ ok: false as const, error }),
          );
          expect(slept).toBeLessThanOrEqual(waitMs);
          if (result.ok) {
            expect(result.rows).toEqual([{ one: 1 }]);
            expect(seen.attempts).toBe(busy + 1);
          } else {
            expect(result.error).toMatchObject({ code: 'SERVER_STORAGE_BUSY' });
            expect(slept).toBe(waitMs);
            expect(seen.attempts).toBeLessThanOrEqual(busy);
          }
        } finally {
          await db.destroy();
        }
      }),
    );
  });

  it('passes other errors through at once, and begins transactions IMMEDIATE', async () => {
    const broken = lockedDatabase(1, 'SQLITE_CORRUPT');
    const db = new Kysely<unknown>({
      dialect: new BusyRetryingSqliteDialect(
        { database: broken.database },
        { waitMs: 1000, sleep: async () => {} },
      ),
    });
    await expect(sql`select 1`.execute(db)).rejects.toMatchObject({ code: 'SQLITE_CORRUPT' });
    expect(broken.seen.attempts).toBe(1);
    await db.destroy();

    const fine = lockedDatabase(0);
    const tx = new Kysely<unknown>({
      dialect: new BusyRetryingSqliteDialect(
        { database: fine.database },
        { waitMs: 1, sleep: async () => {} },
      ),
    });
    await tx.transaction().execute(async (t) => sql`select 1`.execute(t));
    expect(fine.seen.statements[0]).toBe('begin immediate');
    await tx.destroy();
  });
});
