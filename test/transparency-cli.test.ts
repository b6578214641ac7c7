import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openCheckpoint } from '@courier/protocol';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, unsafeTestingClock } from './support/harness.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const DOC = new TextEncoder().encode('%PDF-1.7 the court order, scanned');
const request = (country: string, type = 'court_order') => ({
  authority: { name: 'A court', kind: 'court', country },
  instrument: { type, issuingCourt: 'A court', reference: `ref-${country}`, issueDate: '2026-03-02' },
  offence: { category: 'terrorism', confirmsSuspect: true },
  targets: [{ username: 'nobody_here' }],
  timeRange: { from: '2026-02-01', to: '2026-03-01' },
  requestedCategories: ['phone_number', 'messages'],
});

describe('courier-server transparency, as a process against the server database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-transparency-cli-'));
  const dbPath = join(dir, 'courier.db');
  const keyFile = join(dir, 'operator.key');
  const configFile = join(dir, 'courier.json');
  let served: { json: Record<string, unknown>; csv: string; key: string };

  /** Runs `courier-server transparency …` in an empty directory, with the config named by --config. */
  async function run(...args: string[]) {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(root, 'packages/server/src/main.ts'), 'transparency', ...args],
        { cwd: root, env: { ...process.env, COURIER_CONFIG: '', COURIER_SQLITE_PATH: '' } },
      );
      return { code: 0, out: stdout, err: stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      return { code, out: stdout, err: stderr };
    }
  }

  beforeAll(async () => {
    writeFileSync(
      configFile,
      JSON.stringify({ dataDir: dir, storage: { kind: 'sqlite', path: dbPath }, transparency: { keyFile } }),
    );
    const clock = new unsafeTestingClock(Date.UTC(2026, 2, 10));
    const server = await startTestServer({
      sqlitePath: dbPath,
      clock,
      config: { transparency: { keyFile } },
    });
    try {
      await server.app.legal.submit(request('DE'), DOC, 'intake-1');
      await server.app.legal.submit(request('RU'), DOC, 'intake-1');
      await server.app.legal.submit(request('US', 'subpoena'), DOC, 'intake-1');
      const get = (path: string) => fetch(`${server.url}${path}`);
      served = {
        json: await (await get('/v1/transparency/reports/2026-H1.json')).json(),
        csv: await (await get('/v1/transparency/reports/2026-H1.csv')).text(),
        key: server.app.transparency.verifierKey,
      };
    } finally {
      await server.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the report the server publishes, in JSON, CSV and HTML, computed from the log', async () => {
    const json = await run('report', '--period', '2026-H1', '--format', 'json', '--config', configFile);
    expect(json.code, json.err).toBe(0);
    const report = JSON.parse(json.out);
    expect(report).toEqual(served.json);
    // DE names nobody: the rules allow it, so the log says eligible (pending) whatever the lookup found.
    expect(report.totals).toMatchObject({
      received: 3,
      notConsidered: 1,
      rejected: 1,
      eligible: 1,
      pending: 1,
    });
    expect(report.byInstrument).toEqual({ court_order: 2, subpoena: 1 });
    expect(report.countries.map((c: { country: string }) => c.country).sort()).toEqual(['DE', 'RU', 'US']);

    // JSON is the default format.
    expect(JSON.parse((await run('report', '--period', '2026-H1', '--config', configFile)).out)).toEqual(
      served.json,
    );
    const csv = await run('report', '--period', '2026-H1', '--format', 'csv', '--config', configFile);
    expect(csv.out.trimEnd()).toBe(served.csv.trimEnd());
    const html = await run('report', '--period', '2026-H1', '--format', 'html', '--config', configFile);
    expect(html.out).toContain('Transparency report 2026-H1');
    expect(html.out).toContain("--origin 'courier/legal-log'");

    // A period with nothing gets a zero report, still signed over the whole log.
    const empty = JSON.parse((await run('report', '--period', '2018-H2', '--config', configFile)).out);
    expect(empty.period).toBe('2018-H2');
    expect(empty.totals).toMatchObject({ received: 0, notConsidered: 0, rejected: 0, fulfilled: 0 });
    expect(empty.countries).toEqual([]);
  });

  it('prints the newest signed checkpoint, and verifies the stored log against it', async () => {
    const out = await run('checkpoint', '--config', configFile);
    expect(out.code, out.err).toBe(0);
    const checkpoint = openCheckpoint(`${out.out.trimEnd()}\n`, served.key, 'courier/legal-log');
    expect(checkpoint.size).toBe(served.json.logSize);
    const verified = await run('verify', '--config', configFile);
    expect(verified.code, verified.err).toBe(0);
    expect(verified.out).toContain(`holds ${checkpoint.size} leaves that match its newest signed checkpoint`);
  });

  it('answers bad input with REQ_INVALID and usage, exit 2', async () => {
    for (const args of [
      ['report', '--period', '2026-H3'],
      ['report'],
      ['report', '--period', '2026-H1', '--format', 'pdf'],
    ]) {
      const out = await run(...args, '--config', configFile);
      expect(out.code).toBe(2);
      expect(JSON.parse(out.err.slice(0, out.err.indexOf('\nusage:')))).toMatchObject({
        error: { code: 'REQ_INVALID' },
      });
    }
    expect((await run('publish', '--config', configFile)).code).toBe(2);
    const noDb = await run('verify', '--config', join(dir, 'missing.json'));
    expect(noDb.code).toBe(2);
  });

  it('refuses to print a report from a log that was altered or rolled back (exit 1, nothing on stdout)', async () => {
    const db = new Database(dbPath);
    const original = db.prepare('SELECT leaf FROM log_leaves WHERE idx = 1').get() as { leaf: string };
    db.prepare(
      'UPDATE log_leaves SET leaf = replace(leaf, \'"country":\', \'"country" :\') WHERE idx = 1',
    ).run();
    db.close();
    for (const args of [['report', '--period', '2026-H1'], ['verify'], ['checkpoint']]) {
      const out = await run(...args, '--config', configFile);
      expect(out.code).toBe(1);
      expect(out.out).toBe('');
      expect(out.err).toMatch(/REFUSED: .*altered or forked/);
    }
    const restore = new Database(dbPath);
    restore.prepare('UPDATE log_leaves SET leaf = ? WHERE idx = 1').run(original.leaf);
    restore.prepare('DELETE FROM log_leaves WHERE idx = (SELECT MAX(idx) FROM log_leaves)').run();
    restore.close();
    const rolledBack = await run('report', '--period', '2026-H1', '--config', configFile);
    expect(rolledBack.code).toBe(1);
    expect(rolledBack.err).toMatch(/REFUSED: .*rolled back/);
  });
});
