import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@courier/server';
import { INVENTORY_CLASSES, inventory, inventoryText } from './support/data-inventory.ts';
import { startTestServer } from './support/harness.ts';

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
    for (const [column, cls] of documented)
      expect(INVENTORY_CLASSES.has(cls), `${column}: ${cls}`).toBe(true);
    // P3: the only disclosable data are phone numbers and IP addresses.
    expect([...documented].filter(([, cls]) => cls === 'disclosable').map(([c]) => c)).toEqual([
      'accounts.phone',
      'auth_codes.phone',
      'connections.ip',
      'legal_cases.package',
      'legal_holds.phone',
      'legal_holds.ip_records',
    ]);
    // DESIGN §2's one exception, by the reporter's consent: what a report forwarded (issue 12).
    expect([...documented].filter(([, cls]) => cls === 'forwarded').map(([c]) => c)).toEqual([
      'reports.comment',
      'reports.messages',
    ]);
  });

  it('names only retention settings the server has, with their defaults', () => {
    const doc = inventoryText();
    const retention = parseConfig({}).retention as Record<string, number>;
    const named = [...doc.matchAll(/`retention\.(\w+)`(?: \((\d+)[;)])?/g)];
    expect(new Set(named.map((m) => m[1]))).toEqual(
      new Set(['sessionIdleDays', 'ipMonths', 'exportArchiveHours', 'reportMonths']),
    );
    for (const [, key, stated] of named) {
      expect(retention, `retention.${key}`).toHaveProperty(key!);
      if (stated !== undefined) expect(retention[key!], `default of retention.${key}`).toBe(Number(stated));
    }
    // The export jobs and their archive files are listed with the rule that deletes them.
    expect(doc).toMatch(/\| export_jobs \| file \|[^\n]*`retention\.exportArchiveHours` \(72\)/);
  });
});
