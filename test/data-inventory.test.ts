import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@courier/server';
import { startTestServer } from './support/harness.ts';

const CLASSES = new Set(['personal', 'disclosable', 'ciphertext', 'public', 'operational']);

/** `table.column` → class, from the table in docs/data-inventory.md. */
function inventory(): Map<string, string> {
  const doc = readFileSync(new URL('../docs/data-inventory.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 7 || cells[1] === 'table' || cells[1]!.startsWith('---')) continue;
    rows.set(`${cells[1]}.${cells[2]}`, cells[3]!);
  }
  return rows;
}

describe('data inventory (DESIGN §2)', () => {
  it('classifies every column of the migrated schema, and lists nothing the schema lacks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-inventory-'));
    const path = join(dir, 'courier.db');
    const server = await startTestServer({ sqlitePath: path });
    await server.close();
    const db = new Database(path, { readonly: true });
    const columns: string[] = [];
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%'",
      )
      .all() as { name: string }[];
    for (const { name } of tables) {
      for (const c of db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[])
        columns.push(`${name}.${c.name}`);
    }
    db.close();
    rmSync(dir, { recursive: true, force: true });

    const documented = inventory();
    expect(columns.filter((c) => !documented.has(c))).toEqual([]);
    expect([...documented.keys()].filter((c) => !columns.includes(c))).toEqual([]);
    for (const [column, cls] of documented) expect(CLASSES.has(cls), `${column}: ${cls}`).toBe(true);
    // P3: the only disclosable data are phone numbers and IP addresses.
    expect([...documented].filter(([, cls]) => cls === 'disclosable').map(([c]) => c)).toEqual([
      'accounts.phone',
      'auth_codes.phone',
      'connections.ip',
      'legal_cases.package',
      'legal_holds.phone',
      'legal_holds.ip_records',
    ]);
  });

  it('names only retention settings the server has, with their defaults', () => {
    const doc = readFileSync(new URL('../docs/data-inventory.md', import.meta.url), 'utf8');
    const retention = parseConfig({}).retention as Record<string, number>;
    const named = [...doc.matchAll(/`retention\.(\w+)`(?: \((\d+)[;)])?/g)];
    expect(new Set(named.map((m) => m[1]))).toEqual(
      new Set(['sessionIdleDays', 'ipMonths', 'exportArchiveHours']),
    );
    for (const [, key, stated] of named) {
      expect(retention, `retention.${key}`).toHaveProperty(key!);
      if (stated !== undefined) expect(retention[key!], `default of retention.${key}`).toBe(Number(stated));
    }
    // The export jobs and their archive files are listed with the rule that deletes them.
    expect(doc).toMatch(/\| export_jobs \| file \|[^\n]*`retention\.exportArchiveHours` \(72\)/);
  });
});
