import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageDisclosurePort } from '../packages/server/src/legal/disclosure-port.ts';
import { LegalDesk } from '../packages/server/src/legal/legal-desk.ts';
import { POLICY_2018 } from '../packages/server/src/legal/policy.ts';
import { StorageLegalFacts } from '../packages/server/src/legal/storage-legal-facts.ts';
import { DEFAULT_PRIVACY, type Storage } from '../packages/server/src/storage/ports.ts';
import { openSqliteStorage } from '../packages/server/src/storage/sqlite/open-storage.ts';
import { TransparencyLog } from '../packages/server/src/transparency/transparency-log.ts';

const server = fileURLToPath(new URL('../packages/server/src/', import.meta.url));
/** Files in legal/ that only tests load. */
const TEST_HELPERS = new Set(['legal-fixtures.ts', 'desk-property-setup.ts']);
const REPORT_MARKER = 'REPORTED-PLAINTEXT-MARKER';

/** The modules a file loads at run time (type-only imports load nothing), relative ones resolved. */
function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of source.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gms)) {
    if (!m[1]) found.push(m[2]!);
  }
  for (const m of source.matchAll(/import\(\s*'([^']+)'\s*\)/g)) found.push(m[1]!);
  return found.map((spec) => (spec.startsWith('.') ? resolve(dirname(file), spec) : spec));
}

/** Every module reachable at run time from the entry files, following relative imports. */
function reachable(entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('/')) {
        expect(existsSync(spec), `${relative(server, file)} imports ${spec}`).toBe(true);
        queue.push(spec);
      } else {
        packages.add(spec);
      }
    }
  }
  return { files, packages };
}

describe('the legal desk has no path to messages, media, contacts or keys', () => {
  it('reaches, at run time, no store, service or package that holds them', () => {
    const entries = [
      ...readdirSync(join(server, 'legal'))
        // Test-only helpers beside the desk's code, loaded by its tests alone.
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !TEST_HELPERS.has(f))
        .map((f) => join(server, 'legal', f)),
      ...readdirSync(join(server, 'transparency'))
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => join(server, 'transparency', f)),
      join(server, 'http/routes/desk-routes.ts'),
    ];
    const { files, packages } = reachable(entries);
    const names = [...files].map((f) => relative(server, f));
    // Outside the desk's own folders it loads only these (the CLI opens storage through a function
    // it is handed, so no store module is reachable at all). private-files writes the transparency
    // key and witness 0600 with node:fs alone.
    expect(names.filter((n) => !/^(legal|transparency)\//.test(n)).sort()).toEqual([
      'files/private-files.ts',
      'http/routes/desk-routes.ts',
      'services/phone.ts',
    ]);
    expect(names).toContain('legal/disclosure-port.ts');
    // Reports (the one plaintext the server holds, issue 12) live apart: nothing the desk loads
    // reaches the moderation service, its routes or the report store.
    for (const name of names)
      expect(name, `the desk loads ${name}`).not.toMatch(/moderation|report-store|report-routes/);
    for (const pkg of packages)
      expect(pkg, `the desk loads ${pkg}`).not.toMatch(/^@courier\/(mls|sdk)|ts-mls/);
  });

  describe('at run time, the port and the fact lookups touch only accounts, connections and holds', () => {
    let storage: Storage;
    const touched = new Set<string>();
    /** The real storage, behind a guard that records and refuses every other store. */
    const guarded = () =>
      new Proxy(storage, {
        get(target, property, receiver) {
          touched.add(String(property));
          if (!['accounts', 'connections', 'legalCases'].includes(String(property)))
            throw new Error(`the desk reached storage.${String(property)}`);
          return Reflect.get(target, property, receiver);
        },
      });
    beforeAll(async () => {
      storage = await openSqliteStorage({ path: ':memory:' });
    });
    afterAll(async () => {
      await storage?.close();
    });

    it('decides, approves and produces a package for a real account', async () => {
      const now = Date.UTC(2026, 8, 1);
      const accountId = 'u_isolation';
      await storage.accounts.insert({
        id: accountId,
        phone: '+4915112345678',
        username: null,
        displayName: 'Target',
        createdAt: now - 86_400_000,
        lastSeenDay: null,
        privacy: DEFAULT_PRIVACY,
      });
      await storage.devices.insert({
        id: 'd_isolation',
        accountId,
        name: 'phone',
        createdAt: now - 86_400_000,
        lastSeenAt: null,
      });
      await storage.connections.record([
        { deviceId: 'd_isolation', accountId, ip: '198.51.100.5', at: now - 3_600_000 },
      ]);
      await storage.reports.insert({
        id: 'r_isolation',
        reporterAccountId: null,
        reportedAccountId: accountId,
        chatId: null,
        reason: 'illegal',
        comment: REPORT_MARKER,
        messages: [{ senderAccountId: accountId, sentAtMs: now - 1000, text: REPORT_MARKER }],
        createdAt: now - 1000,
        state: 'open',
        handledBy: null,
        handledAt: null,
      });
      const clock = { now: () => now };
      const log = new TransparencyLog(
        storage,
        { origin: 'test/legal-log', keyName: 'test', privateKey: ed25519.utils.randomSecretKey() },
        clock,
      );
      const desk = new LegalDesk({
        cases: storage.legalCases,
        log,
        port: new StorageDisclosurePort(guarded()),
        facts: new StorageLegalFacts(guarded()),
        policy: () => POLICY_2018,
        clock,
        signingKey: ed25519.utils.randomSecretKey(),
      });
      const { caseId, decision } = await desk.submit(
        {
          authority: { name: 'A court', kind: 'court', country: 'DE' },
          instrument: {
            type: 'court_order',
            issuingCourt: 'A court',
            reference: 'r',
            issueDate: '2026-08-20',
          },
          offence: { category: 'terrorism', confirmsSuspect: true },
          targets: [{ phone: '+4915112345678' }],
          timeRange: { from: '2026-08-01', to: '2026-09-01' },
          requestedCategories: ['phone_number', 'ip_addresses', 'messages', 'media', 'contacts', 'keys'],
        },
        new TextEncoder().encode('%PDF'),
        'intake-1',
      );
      expect(decision.outcome).toBe('eligible');
      await desk.approve(caseId, 'approver-a');
      await desk.approve(caseId, 'approver-b');
      const payload = JSON.parse(JSON.parse((await desk.produce(caseId)).package).payload);
      expect(payload.accounts).toEqual([
        {
          accountId,
          phone_number: '+4915112345678',
          ip_addresses: [expect.objectContaining({ ip: '198.51.100.5' })],
        },
      ]);
      expect([...touched].sort()).toEqual(['accounts', 'connections']);
      // A report about the target, with a marker, is in storage; the package never carries it.
      expect(touched.has('reports')).toBe(false);
      expect(JSON.stringify(payload)).not.toContain(REPORT_MARKER);
    });
  });
});
