import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../storage/open-storage.ts';
import { DEFAULT_PRIVACY } from '../storage/ports.ts';
import { type LegalCliIo, runLegalEvaluate } from './legal-command.ts';
import { NOW } from '../legal/legal-fixtures.ts';
import { POLICY_2018, policyHash } from '../legal/policy.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const example = (name: string) => join(root, 'docs/examples', `${name}.json`);
const AT = ['--at', new Date(NOW).toISOString()];
/** tsx, resolved from the repository: the process runs in an empty directory. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const dir = mkdtempSync(join(tmpdir(), 'courier-legal-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `courier-server legal …` as a process, with no database configured. */
async function courierServer(...args: string[]) {
  const missingDb = join(dir, 'never-created.db');
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', tsx, join(root, 'packages/server/src/main.ts'), 'legal', ...args],
      { cwd: dir, env: { ...process.env, COURIER_CONFIG: '', COURIER_SQLITE_PATH: missingDb } },
    );
    return { code: 0, out: JSON.parse(stdout), err: '' };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, out: stdout, err: stderr };
  } finally {
    expect(existsSync(missingDb)).toBe(false);
  }
}

describe('courier-server legal evaluate, as a process, on the documented examples', () => {
  it('prints each decision as JSON and stores nothing', async () => {
    const runs = await Promise.all([
      courierServer('evaluate', example('court-order-terrorism-de'), ...AT),
      courierServer('evaluate', example('security-service-ru'), ...AT),
      courierServer('evaluate', example('police-letter-lowercase-ru'), ...AT),
      courierServer('evaluate', example('subpoena-fraud-us'), ...AT),
      courierServer('evaluate', example('bulk-keys-fr'), ...AT),
      courierServer('evaluate', example('court-order-old-ips-gb'), ...AT),
      courierServer('evaluate', example('court-order-fraud-nl'), ...AT),
      courierServer('evaluate', example('court-order-fraud-nl'), '--policy', example('policy-2024'), ...AT),
    ]);
    const [de, ru, ruLower, us, bulk, oldIps, nl2018, nl2024] = runs.map((r) => r.out);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(de).toMatchObject({
      outcome: 'eligible',
      reasons: ['CONTENT_NEVER_DISCLOSED'],
      disclosable: ['phone_number', 'ip_addresses'],
      withheld: [{ category: 'messages', reason: 'CONTENT_NEVER_DISCLOSED' }],
      facts: 'unknown',
      note: expect.stringMatching(/^Facts unknown: no database was consulted/),
      policyVersion: '2018-08-14',
      policyHash: policyHash(POLICY_2018),
      evaluatedAt: '2026-11-01T00:00:00.000Z',
    });
    for (const notConsidered of [ru, ruLower]) {
      expect(notConsidered).toMatchObject({
        outcome: 'not_considered',
        reasons: ['JURISDICTION_NOT_CONSIDERED'],
        facts: 'not_consulted',
      });
      expect(notConsidered.note).toBeUndefined();
    }
    expect(us).toMatchObject({
      outcome: 'rejected',
      reasons: ['LEGAL_PROCESS_INSUFFICIENT', 'NOT_TERROR_SUSPECT'],
    });
    expect(bulk).toMatchObject({ outcome: 'rejected', reasons: ['NOT_SPECIFIC', 'CONTENT_NEVER_DISCLOSED'] });
    expect(oldIps).toMatchObject({ outcome: 'rejected', reasons: ['NO_DATA_RETAINED'] });
    expect(nl2018).toMatchObject({ outcome: 'rejected', reasons: ['NOT_TERROR_SUSPECT'] });
    expect(nl2024).toMatchObject({ outcome: 'eligible', reasons: [], policyVersion: '2024-09-30' });
  });

  it('refuses an invalid request with the catalog code and every problem, and bad usage', async () => {
    const invalid = await courierServer('evaluate', example('invalid-request'));
    expect(invalid.code).toBe(1);
    const { error } = JSON.parse(invalid.err);
    expect(error.code).toBe('LEGAL_REQUEST_INVALID');
    expect(error.details.issues).toHaveLength(6);
    const badPolicy = await courierServer(
      'evaluate',
      example('bulk-keys-fr'),
      '--policy',
      example('bulk-keys-fr'),
    );
    expect([badPolicy.code, JSON.parse(badPolicy.err).error.code]).toEqual([1, 'LEGAL_POLICY_INVALID']);
    expect((await courierServer('evaluate')).code).toBe(2);
    expect((await courierServer('evaluate', example('bulk-keys-fr'), '--with-facts')).code).toBe(2);
  });
});

describe('legal evaluate --with-facts, against a real SQLite database', () => {
  const path = join(dir, 'courier.db');
  const at = (iso: string) => Date.parse(iso);
  beforeAll(async () => {
    const storage = await openStorage({ kind: 'sqlite', path });
    const account = { username: 'night_owl_77', displayName: 'N', createdAt: 1, lastSeenDay: null };
    await storage.accounts.insert({
      ...account,
      id: 'u_owl',
      phone: '+441234567890',
      privacy: DEFAULT_PRIVACY,
    });
    await storage.devices.insert({
      id: 'd_owl',
      accountId: 'u_owl',
      name: 'd',
      createdAt: 1,
      lastSeenAt: null,
    });
    await storage.connections.record([
      { deviceId: 'd_owl', accountId: 'u_owl', ip: '198.51.100.7', at: at('2026-07-01T10:00:00Z') },
    ]);
    await storage.close();
  });

  const run = async (...argv: string[]) => {
    const out: string[] = [];
    const opened: string[] = [];
    const io: LegalCliIo = {
      out: (text) => out.push(text),
      err: (text) => out.push(text),
      storageConfig: () => ({ kind: 'sqlite', path }),
      openStorage: (config) => {
        opened.push(config.kind);
        return openStorage(config);
      },
      now: () => NOW,
    };
    const code = await runLegalEvaluate(argv, io);
    return { code, decision: JSON.parse(out.join('\n')), opened };
  };

  it('looks the targets and their IP records up, read only, and only when asked to', async () => {
    const de = await run('evaluate', example('court-order-terrorism-de'), '--with-facts');
    expect(de).toMatchObject({ code: 0, opened: ['sqlite'] });
    expect(de.decision).toMatchObject({
      outcome: 'eligible',
      facts: 'consulted',
      accounts: ['u_owl'],
      targets: [{ target: { phone: '+441234567890' }, status: 'found', accountId: 'u_owl' }],
      disclosable: ['phone_number', 'ip_addresses'],
    });
    expect(de.decision.note).toBeUndefined();
    const nl = await run(
      'evaluate',
      example('court-order-fraud-nl'),
      '--policy',
      example('policy-2024'),
      '--with-facts',
    );
    expect(nl.decision).toMatchObject({
      outcome: 'rejected',
      reasons: ['TARGET_NOT_FOUND'],
      facts: 'consulted',
    });
    const without = await run('evaluate', example('court-order-terrorism-de'));
    expect(without).toMatchObject({ code: 0, opened: [], decision: { facts: 'unknown' } });
  });
});
