import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  unsafeTestingClock,
} from './support/harness.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const DOC = new TextEncoder().encode('%PDF-1.7 the court order, scanned');

const request = (country: string, overrides: Record<string, unknown> = {}) => ({
  authority: { name: 'A court', kind: 'court', country },
  instrument: {
    type: 'court_order',
    issuingCourt: 'A court',
    reference: `ref-${country}`,
    issueDate: '2026-07-20',
  },
  offence: { category: 'terrorism', confirmsSuspect: true },
  targets: [{ username: 'target_user' }],
  timeRange: { from: '2026-06-01', to: '2026-07-31' },
  requestedCategories: ['phone_number', 'ip_addresses', 'messages'],
  ...overrides,
});

describe('legal desk, log and transparency report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-desk-'));
  const dbPath = join(dir, 'courier.db');
  const keyFile = join(dir, 'operator.key');
  const clock = new unsafeTestingClock(Date.UTC(2026, 7, 1));
  let server: TestServer;
  let target: TestUser;
  let bystander: TestUser;

  beforeAll(async () => {
    server = await startTestServer({ sqlitePath: dbPath, clock, config: { transparency: { keyFile } } });
    target = await server.register(nextPhone());
    bystander = await server.register(nextPhone());
    await target.http.setUsername('target_user');
    await server.app.storage.connections.record([
      {
        deviceId: target.deviceId,
        accountId: target.accountId,
        ip: '198.51.100.44',
        at: Date.UTC(2026, 6, 1),
      },
      {
        deviceId: bystander.deviceId,
        accountId: bystander.accountId,
        ip: '203.0.113.8',
        at: Date.UTC(2026, 6, 1),
      },
    ]);
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs cases through the policy and the two-person rule, disclosing only phone and IPs', async () => {
    const desk = server.app.legal;
    const ru = await desk.submit(request('RU'), DOC, 'intake-1');
    expect(ru.decision).toMatchObject({
      outcome: 'not_considered',
      reasons: ['JURISDICTION_NOT_CONSIDERED'],
    });
    const us = await desk.submit(
      request('US', { instrument: { type: 'subpoena', reference: 'gj', issueDate: '2026-07-01' } }),
      DOC,
      'intake-1',
    );
    expect(us.decision).toMatchObject({
      outcome: 'rejected',
      reasons: ['LEGAL_PROCESS_INSUFFICIENT', 'CONTENT_NEVER_DISCLOSED'],
    });
    await expect(desk.submit({ nonsense: true }, DOC, 'intake-1')).rejects.toMatchObject({
      code: 'LEGAL_REQUEST_INVALID',
    });

    const de = await desk.submit(request('DE'), DOC, 'intake-1');
    expect(de.decision).toMatchObject({
      outcome: 'eligible',
      reasons: ['CONTENT_NEVER_DISCLOSED'],
      accounts: [target.accountId],
    });
    await expect(desk.produce(de.caseId)).rejects.toMatchObject({ code: 'LEGAL_CASE_STATE' });
    expect(await desk.approve(de.caseId, 'approver-a')).toEqual({ approvals: 1, approved: false });
    await expect(desk.approve(de.caseId, 'approver-a')).rejects.toMatchObject({
      code: 'LEGAL_ALREADY_APPROVED',
    });
    expect(await desk.approve(de.caseId, 'approver-b')).toEqual({ approvals: 2, approved: true });
    const produced = await desk.produce(de.caseId);
    const pkg = JSON.parse(produced.package) as { payload: string; signature: string; publicKey: string };
    expect(
      ed25519.verify(
        Buffer.from(pkg.signature, 'base64'),
        new TextEncoder().encode(pkg.payload),
        Buffer.from(pkg.publicKey, 'base64'),
      ),
    ).toBe(true);
    const payload = JSON.parse(pkg.payload);
    expect(payload.categories).toEqual(['phone_number', 'ip_addresses']);
    expect(payload.accounts).toEqual([
      {
        accountId: target.accountId,
        phone_number: target.phone,
        ip_addresses: [expect.objectContaining({ ip: '198.51.100.44' })],
      },
    ]);
    expect(pkg.payload).not.toContain('203.0.113.8');

    const fr = await desk.submit(request('FR'), DOC, 'intake-1');
    await desk.decline(fr.caseId, 'reviewer-1', 'discretion');
    await expect(desk.approve(fr.caseId, 'approver-a')).rejects.toMatchObject({ code: 'LEGAL_CASE_STATE' });
  });

  it('publishes a report computed from the log, and a zero report for an empty period', async () => {
    const report = await (await fetch(`${server.url}/v1/transparency/reports/2026-H2.json`)).json();
    const byCountry = Object.fromEntries(report.countries.map((r: { country: string }) => [r.country, r]));
    expect(byCountry.RU).toMatchObject({ received: 1, notConsidered: 1 });
    expect(byCountry.US).toMatchObject({
      received: 1,
      rejected: 1,
      rejectedByReason: { LEGAL_PROCESS_INSUFFICIENT: 1, CONTENT_NEVER_DISCLOSED: 1 },
    });
    expect(byCountry.DE).toMatchObject({
      received: 1,
      eligible: 1,
      narrowed: 1,
      fulfilled: 1,
      accountsAffected: 1,
      categoriesDisclosed: { phone_number: 1, ip_addresses: 1 },
    });
    expect(byCountry.FR).toMatchObject({ received: 1, declined: 1, fulfilled: 0 });
    expect(report.totals).toMatchObject({ received: 4, fulfilled: 1 });
    const empty = await (await fetch(`${server.url}/v1/transparency/reports/2026-H1.json`)).json();
    expect(empty).toMatchObject({ period: '2026-H1', countries: [], totals: { received: 0 } });
    const csv = await (await fetch(`${server.url}/v1/transparency/reports/2026-H2.csv`)).text();
    expect(csv.split('\n')[0]).toMatch(/^country,received,not_considered,rejected,/);
    expect(await (await fetch(`${server.url}/v1/transparency/reports/2026-H2.html`)).text()).toContain(
      'Transparency report 2026-H2',
    );
    // No leaf carries personal data.
    const leaves = (await (await fetch(`${server.url}/v1/transparency/leaves`)).json()).leaves
      .map((l: { leaf: string }) => l.leaf)
      .join('\n');
    for (const secret of [target.phone, 'target_user', '198.51.100.44', target.accountId, 'ref-DE'])
      expect(leaves).not.toContain(secret);
  });

  it('lets anyone verify the report with `courier verify-report`, and catches an altered log', async () => {
    const home = join(dir, 'auditor');
    const verify = (...extra: string[]) =>
      promisify(execFile)(
        process.execPath,
        [
          'packages/cli/bin/courier.js',
          '--server',
          server.url,
          '--home',
          home,
          'verify-report',
          '--period',
          '2026-H2',
          ...extra,
        ],
        { cwd: root },
      );
    const key = server.app.transparency.verifierKey;
    const first = await verify('--key', key);
    expect(first.stdout).toContain('Report 2026-H2 verified');
    await server.app.legal.submit(request('GB'), DOC, 'intake-1');
    const second = await verify('--key', key);
    expect(second.stdout).toMatch(/consistent with the checkpoint of size \d+ seen before/);
    await expect(verify('--key', key.replace(/\+[0-9a-f]{8}\+.*/, '+00000000+AQ=='))).rejects.toThrow();
    // A checkpoint of another log (same key, another origin line) does not pass for this one.
    await expect(verify('--key', key, '--origin', 'courier.example/another-log')).rejects.toThrow(
      /VERIFICATION FAILED: the report's checkpoint does not open: the checkpoint is of the log "courier\/legal-log"/,
    );
    expect((await verify('--key', key, '--origin', 'courier/legal-log')).stdout).toContain('verified');

    // Someone edits a leaf in the database: the verifier refuses the log, and so does the server.
    const db = new Database(dbPath);
    db.prepare('UPDATE log_leaves SET leaf = replace(leaf, \'"country":"US"\', \'"country":"CA"\')').run();
    db.close();
    await expect(verify('--key', key)).rejects.toThrow(/VERIFICATION FAILED/);
    await expect(
      startTestServer({ sqlitePath: dbPath, clock, config: { transparency: { keyFile } } }),
    ).rejects.toThrow(/altered or forked/);
  });
});

describe('the log refuses a rollback', () => {
  it('will not start on a log that lost leaves a checkpoint was signed over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-rollback-'));
    const sqlitePath = join(dir, 'courier.db');
    const config = { transparency: { keyFile: join(dir, 'operator.key') } };
    try {
      const server = await startTestServer({ sqlitePath, config });
      await server.app.legal.submit(request('DE'), DOC, 'intake-1');
      await server.app.legal.submit(request('RU'), DOC, 'intake-1');
      await server.close();
      const db = new Database(sqlitePath);
      db.prepare('DELETE FROM log_leaves WHERE idx = (SELECT MAX(idx) FROM log_leaves)').run();
      db.close();
      await expect(startTestServer({ sqlitePath, config })).rejects.toThrow(/rolled back/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('catches a database restored from an old copy: the server at start, and verify-report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-restore-'));
    const sqlitePath = join(dir, 'courier.db');
    const backup = join(dir, 'backup.db');
    const config = { transparency: { keyFile: join(dir, 'operator.key') } };
    const verify = (server: TestServer, key: string) =>
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
    try {
      let server = await startTestServer({ sqlitePath, config });
      await server.app.legal.submit(request('DE'), DOC, 'intake-1');
      const key = server.app.transparency.verifierKey;
      await server.close();
      // The old copy is consistent with itself: its leaves match its own newest checkpoint.
      copyFileSync(sqlitePath, backup);
      server = await startTestServer({ sqlitePath, config });
      await server.app.legal.submit(request('RU'), DOC, 'intake-1');
      expect((await verify(server, key)).stdout).toContain('verified');
      await server.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${sqlitePath}${suffix}`, { force: true });
      copyFileSync(backup, sqlitePath);

      // The server remembers, outside the database, the checkpoint it signed last.
      await expect(startTestServer({ sqlitePath, config })).rejects.toThrow(
        /restored from an old copy or rolled back/,
      );
      // A node that lost that memory starts, but an auditor who saw the newer log is not fooled.
      const amnesiac = await startTestServer({
        sqlitePath,
        config: { transparency: { ...config.transparency, witnessFile: join(dir, 'elsewhere.json') } },
      });
      try {
        await expect(verify(amnesiac, key)).rejects.toThrow(
          /VERIFICATION FAILED: the log shrank from \d+ leaves \(seen before\) to \d+: it was rolled back or restored from an old copy/,
        );
      } finally {
        await amnesiac.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a legal hold on an erased account', () => {
  it('keeps only the phone number and the covered IP records until the case is closed, and tells the person', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-hold-'));
    const clock = new unsafeTestingClock(Date.UTC(2026, 7, 1));
    const server = await startTestServer({
      sqlitePath: join(dir, 'db'),
      clock,
      config: { transparency: { keyFile: join(dir, 'k') } },
    });
    try {
      const suspect = await server.register(nextPhone());
      await suspect.http.setUsername('target_user');
      await server.app.storage.connections.record([
        {
          deviceId: suspect.deviceId,
          accountId: suspect.accountId,
          ip: '198.51.100.9',
          at: Date.UTC(2026, 6, 3),
        },
      ]);
      const { caseId } = await server.app.legal.submit(request('DE'), DOC, 'intake-1');
      expect(await suspect.http.deleteAccount(suspect.phone)).toEqual({ deleted: true, legalHold: true });
      expect(await server.app.storage.accounts.byId(suspect.accountId)).toBeUndefined();
      const held = await server.app.storage.legalCases.holdsForAccount(suspect.accountId);
      expect(held).toEqual([
        expect.objectContaining({
          caseId,
          phone: suspect.phone,
          ipRecords: [expect.objectContaining({ ip: '198.51.100.9' })],
        }),
      ]);
      expect(JSON.stringify(held)).not.toContain('target_user');

      await server.app.legal.approve(caseId, 'approver-a');
      await server.app.legal.approve(caseId, 'approver-b');
      const payload = JSON.parse(JSON.parse((await server.app.legal.produce(caseId)).package).payload);
      expect(payload.accounts).toEqual([
        {
          accountId: suspect.accountId,
          phone_number: suspect.phone,
          ip_addresses: [expect.objectContaining({ ip: '198.51.100.9' })],
        },
      ]);
      // Closed: the hold is gone.
      expect(await server.app.storage.legalCases.holdsForAccount(suspect.accountId)).toEqual([]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a non-disclosure order', () => {
  it('keeps the hold secret from the person while in force, and counts the request in the report all the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-ndo-'));
    const clock = new unsafeTestingClock(Date.UTC(2026, 7, 1));
    const server = await startTestServer({
      sqlitePath: join(dir, 'db'),
      clock,
      config: { transparency: { keyFile: join(dir, 'k') } },
    });
    try {
      const erase = async (username: string, nonDisclosure: { until: string } | null) => {
        const person = await server.register(nextPhone());
        await person.http.setUsername(username);
        const { caseId } = await server.app.legal.submit(
          request('DE', { targets: [{ username }], nonDisclosure }),
          DOC,
          'intake-1',
        );
        const reply = await person.http.deleteAccount(person.phone);
        // Whatever the person is told, the hold is kept for the case.
        expect(await server.app.storage.legalCases.holdsForAccount(person.accountId)).toEqual([
          expect.objectContaining({ caseId, phone: person.phone }),
        ]);
        return { reply, caseId };
      };
      // In force through 2026-08-01 (the whole day): the reply is the one an account without a hold gets.
      const gagged = await erase('gagged_user', { until: '2026-08-01' });
      expect(gagged.reply).toEqual({ deleted: true, legalHold: false });
      const unheld = await server.register(nextPhone());
      expect(await unheld.http.deleteAccount(unheld.phone)).toEqual(gagged.reply);
      // Expired the day before, or none at all: the person is told.
      expect((await erase('expired_gag', { until: '2026-07-31T23:59:59Z' })).reply).toEqual({
        deleted: true,
        legalHold: true,
      });
      expect((await erase('no_gag_user', null)).reply).toEqual({ deleted: true, legalHold: true });

      // Staff and the authority see the order's end on the case.
      const intake = await server.app.desk.createAccount({
        kind: 'staff',
        username: 'intake.ndo',
        displayName: 'Intake',
        password: 'correct horse battery staple',
        roles: ['intake'],
      });
      const account = (await server.app.storage.desk.accountById(intake.id))!;
      const listed = await server.app.desk.list(account);
      expect(listed.find((c) => c.caseId === gagged.caseId)?.nonDisclosureUntil).toBe('2026-08-01');

      // The report counts all three requests; the order changes no number and no leaf names it.
      const report = await (await fetch(`${server.url}/v1/transparency/reports/2026-H2.json`)).json();
      expect(report.totals.received).toBe(3);
      const leaves = (await server.app.transparency.leaves(0, 100)).map((l) => l.leaf).join('\n');
      for (const secret of ['2026-08-01', 'gagged_user', 'nonDisclosure'])
        expect(leaves).not.toContain(secret);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
