import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, unsafeTestingClock } from './support/harness.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const DOC = new TextEncoder().encode('%PDF-1.7 the court order');
const request = (country: string) => ({
  authority: { name: 'A court', kind: 'court', country },
  instrument: {
    type: 'court_order',
    issuingCourt: 'A court',
    reference: `ref-${country}`,
    issueDate: '2026-03-02',
  },
  offence: { category: 'terrorism', confirmsSuspect: true },
  targets: [{ username: 'nobody_here' }],
  timeRange: { from: '2026-02-01', to: '2026-03-01' },
  requestedCategories: ['phone_number'],
});

/** Tampering with the stored log, one way at a time, while the server runs; each is undone after. */
describe('a tampered log is caught by verify-report and by the server at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-tamper-'));
  const sqlitePath = join(dir, 'courier.db');
  const config = { transparency: { keyFile: join(dir, 'operator.key') } };
  const clock = new unsafeTestingClock(Date.UTC(2026, 2, 10));
  let server: TestServer;
  let key: string;

  const verify = () =>
    promisify(execFile)(
      process.execPath,
      ['packages/cli/bin/courier.js', '--server', server.url, '--home', join(dir, 'auditor')].concat([
        'verify-report',
        '--period',
        '2026-H1',
        '--key',
        key,
      ]),
      { cwd: root },
    );
  /** Runs `change` on the database, checks both detectors refuse, then undoes it. */
  async function tampered(change: (db: Database.Database) => () => void, refusal: RegExp) {
    const db = new Database(sqlitePath);
    const undo = change(db);
    try {
      await expect(verify()).rejects.toThrow(/VERIFICATION FAILED/);
      await expect(startTestServer({ sqlitePath, clock, config })).rejects.toThrow(refusal);
    } finally {
      undo();
      db.close();
    }
  }

  beforeAll(async () => {
    server = await startTestServer({ sqlitePath, clock, config });
    for (const country of ['DE', 'RU', 'FR', 'US'])
      await server.app.legal.submit(request(country), DOC, 'intake-1');
    key = server.app.transparency.verifierKey;
    expect((await verify()).stdout).toContain('Report 2026-H1 verified');
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the current period (by the server clock, March 2026) for the page at /transparency', async () => {
    const list = await (await fetch(`${server.url}/v1/transparency/periods`)).json();
    expect(list.current).toBe('2026-H1');
    expect(list.periods.at(-1)).toMatchObject({ period: '2026-H1', received: 4 });
    const page = await fetch(`${server.url}/transparency`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('one byte of one leaf changed', async () => {
    await tampered((db) => {
      const { idx, leaf } = db
        .prepare(`SELECT idx, leaf FROM log_leaves WHERE leaf LIKE '%"country":"FR"%'`)
        .get() as { idx: number; leaf: string };
      // "FR" becomes "GR": one byte, still a well-formed leaf of a real country.
      const changed = leaf.replace('"country":"FR"', '"country":"GR"');
      expect(Buffer.from(changed).filter((b, i) => b !== Buffer.from(leaf)[i]).length).toBe(1);
      db.prepare('UPDATE log_leaves SET leaf = ? WHERE idx = ?').run(changed, idx);
      return () => db.prepare('UPDATE log_leaves SET leaf = ? WHERE idx = ?').run(leaf, idx);
    }, /altered or forked/);
  });

  it('one leaf deleted from the middle, the rest renumbered', async () => {
    await tampered((db) => {
      const rows = db.prepare('SELECT * FROM log_leaves ORDER BY idx').all() as { idx: number }[];
      db.prepare('DELETE FROM log_leaves WHERE idx >= 1').run();
      const insert = db.prepare(
        `INSERT INTO log_leaves (${Object.keys(rows[0]!).join(', ')}) VALUES (${Object.keys(rows[0]!)
          .map((k) => `@${k}`)
          .join(', ')})`,
      );
      for (const row of rows.slice(2)) insert.run({ ...row, idx: row.idx - 1 });
      return () => {
        db.prepare('DELETE FROM log_leaves').run();
        for (const row of rows) insert.run(row);
      };
    }, /rolled back/);
  });

  it('the newest leaf deleted', async () => {
    await tampered((db) => {
      const last = db.prepare('SELECT * FROM log_leaves ORDER BY idx DESC LIMIT 1').get() as Record<
        string,
        unknown
      >;
      db.prepare('DELETE FROM log_leaves WHERE idx = ?').run(last.idx);
      return () =>
        db
          .prepare(
            `INSERT INTO log_leaves (${Object.keys(last).join(', ')}) VALUES (${Object.keys(last)
              .map((k) => `@${k}`)
              .join(', ')})`,
          )
          .run(last);
    }, /rolled back/);
    // Undone: both are satisfied again.
    expect((await verify()).stdout).toContain('verified');
  });
});
