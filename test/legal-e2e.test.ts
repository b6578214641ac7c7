import { createHash } from 'node:crypto';
import { parseLeaf, parseVerifierKey } from '@courier/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StorageDisclosurePort } from '../packages/server/src/legal/disclosure-port.ts';
import { StorageLegalFacts } from '../packages/server/src/legal/storage-legal-facts.ts';
import {
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  unsafeTestingClock,
} from './support/harness.ts';

const PASSWORD = 'correct horse battery staple';
const DOC = Buffer.from('%PDF-1.7 the court order').toString('base64');

/**
 * The whole path through the HTTP desk, with the real disclosure port and fact lookups watched (spied
 * on, still running): an authority submits, two approvers approve, the package is produced and
 * checked, the report counts it; a request from a not-considered jurisdiction is counted but looks
 * nothing up.
 */
describe.each(['sqlite', 'postgres'] as const)('legal desk end to end (%s)', (storage) => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 8, 1, 9));
  let server: TestServer;
  let target: TestUser;
  const tokens = new Map<string, string>();
  const spies = () => ({
    port: {
      phoneNumber: vi.spyOn(StorageDisclosurePort.prototype, 'phoneNumber'),
      ipRecords: vi.spyOn(StorageDisclosurePort.prototype, 'ipRecords'),
    },
    facts: {
      resolve: vi.spyOn(StorageLegalFacts.prototype, 'resolve'),
      hasIpRecords: vi.spyOn(StorageLegalFacts.prototype, 'hasIpRecords'),
    },
  });
  let port: ReturnType<typeof spies>['port'];
  let facts: ReturnType<typeof spies>['facts'];
  const lookups = () =>
    [...Object.values(port), ...Object.values(facts)].reduce((n, s) => n + s.mock.calls.length, 0);

  async function call(method: string, path: string, who?: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(who ? { authorization: `Desk ${tokens.get(who)}` } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
  }
  const request = (country: string, kind: string) => ({
    authority: { name: `An agency of ${country}`, kind, country },
    instrument: {
      type: 'court_order',
      issuingCourt: 'A court',
      reference: `ref-${country}`,
      issueDate: '2026-08-20',
    },
    offence: { category: 'terrorism', confirmsSuspect: true },
    targets: [{ phone: target.phone }],
    timeRange: { from: '2026-08-01', to: '2026-08-31' },
    requestedCategories: ['phone_number', 'ip_addresses', 'messages', 'keys'],
  });

  beforeAll(async () => {
    ({ port, facts } = spies());
    server = await startTestServer({ clock, storage });
    target = await server.register(nextPhone());
    await server.app.storage.connections.record([
      {
        deviceId: target.deviceId,
        accountId: target.accountId,
        ip: '198.51.100.77',
        at: Date.UTC(2026, 7, 15),
      },
    ]);
    const add = async (username: string, kind: 'staff' | 'authority', extra: Record<string, unknown>) => {
      const created = await server.app.desk.createAccount({
        kind,
        username,
        // An authority files in the name its account was verified with.
        displayName: kind === 'authority' ? `An agency of ${extra.country}` : username,
        password: PASSWORD,
        ...extra,
      });
      const code = new TOTP({ secret: Secret.fromBase32(created.totpSecret), label: username }).generate({
        timestamp: clock.now(),
      });
      const reply = await call('POST', '/desk/v1/login', undefined, { username, password: PASSWORD, code });
      tokens.set(username, reply.body.token);
    };
    await add('bka.de', 'authority', { country: 'DE', authorityKind: 'police' });
    await add('fsb.ru', 'authority', { country: 'RU', authorityKind: 'security_service' });
    await add('approver.a', 'staff', { roles: ['approver'] });
    await add('approver.b', 'staff', { roles: ['approver'] });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.close();
  });

  it('counts a request from a not-considered jurisdiction and looks nothing up', async () => {
    const before = lookups();
    const ru = await call('POST', '/desk/v1/requests', 'fsb.ru', {
      request: request('RU', 'security_service'),
      documentBase64: DOC,
    });
    expect(ru.status).toBe(201);
    // The authority gets the case id and the status: nothing else.
    expect(ru.body).toEqual({ caseId: expect.stringMatching(/^c_/), status: 'not_considered' });
    const staffView = (await call('GET', '/desk/v1/requests', 'approver.a')).body.requests.find(
      (c: { caseId: string }) => c.caseId === ru.body.caseId,
    );
    expect(staffView).toMatchObject({
      outcome: 'not_considered',
      reasons: ['JURISDICTION_NOT_CONSIDERED'],
      disclosable: [],
    });
    // Nothing can move it on, and nothing was looked up: not the account, not its IPs, not its phone.
    for (const step of ['approve', 'produce'])
      expect(
        (await call('POST', `/desk/v1/requests/${ru.body.caseId}/${step}`, 'approver.a')).body.error.code,
      ).toBe('LEGAL_CASE_STATE');
    expect(lookups()).toBe(before);
    expect(lookups()).toBe(0);
  });

  it('takes an authority’s request through two approvers to a signed package the report counts', async () => {
    const de = await call('POST', '/desk/v1/requests', 'bka.de', {
      request: request('DE', 'police'),
      documentBase64: DOC,
    });
    expect(de.body).toEqual({ caseId: expect.stringMatching(/^c_/), status: 'awaiting_approval' });
    expect(facts.resolve).toHaveBeenCalled();
    const caseId = de.body.caseId as string;
    // The findings are for staff.
    const staffView = (await call('GET', '/desk/v1/requests', 'approver.a')).body.requests.find(
      (c: { caseId: string }) => c.caseId === caseId,
    );
    expect(staffView).toMatchObject({
      outcome: 'eligible',
      disclosable: ['phone_number', 'ip_addresses'],
      targets: [{ status: 'found', accountId: target.accountId }],
    });
    expect((await call('POST', `/desk/v1/requests/${caseId}/produce`, 'approver.a')).body.error.code).toBe(
      'LEGAL_CASE_STATE',
    );
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, 'approver.a')).body).toEqual({
      approvals: 1,
      approved: false,
    });
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, 'approver.b')).body).toEqual({
      approvals: 2,
      approved: true,
    });
    expect(port.phoneNumber).not.toHaveBeenCalled();
    const { packageHash } = (await call('POST', `/desk/v1/requests/${caseId}/produce`, 'approver.b')).body;
    // The port was asked about this case's account only.
    for (const spy of Object.values(port))
      expect(spy.mock.calls.map((c) => [c[0], c[1]])).toEqual([[caseId, target.accountId]]);

    // The authority downloads the package and checks it: signed by the operator's key (the one its
    // checkpoints are signed with), its hash in the public log, only the phone and the IPs.
    const pkg = (await call('GET', `/desk/v1/requests/${caseId}/package`, 'bka.de')).body as {
      payload: string;
      signature: string;
      publicKey: string;
    };
    const operatorKey = parseVerifierKey(
      (await (await fetch(`${server.url}/v1/transparency/key`)).text()).trim(),
    );
    expect(Buffer.from(pkg.publicKey, 'base64')).toEqual(Buffer.from(operatorKey.publicKey));
    expect(
      ed25519.verify(
        Buffer.from(pkg.signature, 'base64'),
        new TextEncoder().encode(pkg.payload),
        operatorKey.publicKey,
      ),
    ).toBe(true);
    expect(createHash('sha256').update(pkg.payload).digest('hex')).toBe(packageHash);
    const payload = JSON.parse(pkg.payload);
    expect(payload).toMatchObject({ caseId, caseReference: 'ref-DE', policyVersion: '2018-08-14' });
    expect(payload.categories).toEqual(['phone_number', 'ip_addresses']);
    expect(payload.accounts).toEqual([
      {
        accountId: target.accountId,
        phone_number: target.phone,
        ip_addresses: [expect.objectContaining({ ip: '198.51.100.77' })],
      },
    ]);
    const leaves = (await (await fetch(`${server.url}/v1/transparency/leaves`)).json()).leaves.map(
      (l: { leaf: string }) => parseLeaf(l.leaf),
    );
    expect(leaves).toContainEqual(
      expect.objectContaining({ type: 'production', packageHash, accountsAffected: 1 }),
    );

    const report = await (await fetch(`${server.url}/v1/transparency/reports/2026-H2.json`)).json();
    const row = (country: string) => report.countries.find((c: { country: string }) => c.country === country);
    expect(row('DE')).toMatchObject({
      received: 1,
      eligible: 1,
      fulfilled: 1,
      accountsSpecified: 1,
      accountsAffected: 1,
      categoriesDisclosed: { phone_number: 1, ip_addresses: 1 },
    });
    expect(row('RU')).toMatchObject({ received: 1, notConsidered: 1, fulfilled: 0, accountsAffected: 0 });
    expect(report.totals).toMatchObject({ received: 2, notConsidered: 1, fulfilled: 1 });
    // With the policy text in force, whose hash is the one the log's policy leaf holds.
    expect(report.policy.version).toBe('2018-08-14');
    expect(createHash('sha256').update(report.policyText).digest('hex')).toBe(report.policy.hash);
    expect(JSON.parse(report.policyText)).toMatchObject({
      version: '2018-08-14',
      notConsideredJurisdictions: ['RU'],
      disclosableCategories: ['ip_addresses', 'phone_number'],
    });
    const html = await (await fetch(`${server.url}/v1/transparency/reports/2026-H2.html`)).text();
    expect(html).toContain('The disclosure policy in force');
    expect(html).toContain('&#34;requiredOffenceCategories&#34;');
  });
});
