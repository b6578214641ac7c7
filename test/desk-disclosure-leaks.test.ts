import { parseLeaf, type PublicLeaf } from '@courier/protocol';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_LEAF_VOCABULARY } from '../packages/server/src/legal/legal-desk.ts';
import {
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  unsafeTestingClock,
} from './support/harness.ts';

const PASSWORD = 'correct horse battery staple';
const DOC = Buffer.from('%PDF-1.7 the court order').toString('base64');
const AUTHORITY = { name: 'Bundeskriminalamt', kind: 'police', country: 'DE' } as const;
const NOBODY = '+442079999999';

/**
 * Issue 11 item 2: what an authority (and the public) learns about accounts before anyone approved
 * anything. Each `it` is one point of the issue.
 */
describe('the legal desk tells nobody which targets have accounts', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 7, 10, 9));
  let server: TestServer;
  let target: TestUser;
  const secrets = new Map<string, string>();

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Desk ${token}` } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
  }
  const login = async (username: string) => {
    // Each login is in a time step of its own: a one-time code is used once.
    clock.advance(30_000);
    const code = new TOTP({ secret: Secret.fromBase32(secrets.get(username)!), label: username }).generate({
      timestamp: clock.now(),
    });
    const reply = await call('POST', '/desk/v1/login', undefined, { username, password: PASSWORD, code });
    expect(reply.status, reply.text).toBe(200);
    return reply.body.token as string;
  };
  const request = (phone: string, extra: Record<string, unknown> = {}) => ({
    authority: AUTHORITY,
    instrument: {
      type: 'court_order',
      issuingCourt: 'BGH Ermittlungsrichter',
      reference: '1 BGs 1/26',
      issueDate: '2026-08-01',
    },
    offence: { category: 'terrorism', confirmsSuspect: true },
    targets: [{ phone }],
    timeRange: { from: '2026-06-01', to: '2026-07-31' },
    requestedCategories: ['phone_number', 'ip_addresses'],
    ...extra,
  });
  const submit = async (token: string, body: unknown) => {
    const reply = await call('POST', '/desk/v1/requests', token, { request: body, documentBase64: DOC });
    expect(reply.status, reply.text).toBe(201);
    return reply;
  };
  const leaves = async (): Promise<PublicLeaf[]> =>
    (await server.app.transparency.leaves(0, Number.MAX_SAFE_INTEGER)).map((l) => parseLeaf(l.leaf)!);

  beforeAll(async () => {
    server = await startTestServer({ clock });
    target = await server.register(nextPhone());
    // Seen from May to August: well outside the June–July range asked for, on both sides.
    await server.app.storage.connections.record([
      {
        deviceId: target.deviceId,
        accountId: target.accountId,
        ip: '198.51.100.7',
        at: Date.UTC(2026, 4, 15),
      },
      {
        deviceId: target.deviceId,
        accountId: target.accountId,
        ip: '198.51.100.7',
        at: Date.UTC(2026, 7, 5),
      },
    ]);
    const add = async (username: string, extra: Record<string, unknown>) => {
      const created = await server.app.desk.createAccount({
        username,
        password: PASSWORD,
        ...extra,
      } as Parameters<TestServer['app']['desk']['createAccount']>[0]);
      secrets.set(username, created.totpSecret);
    };
    await add('bka.de', {
      kind: 'authority',
      displayName: AUTHORITY.name,
      country: 'DE',
      authorityKind: 'police',
    });
    await add('approver.one', { kind: 'staff', displayName: 'One', roles: ['approver'] });
    await add('approver.two', { kind: 'staff', displayName: 'Two', roles: ['approver'] });
    await add('reviewer.one', { kind: 'staff', displayName: 'Rev', roles: ['reviewer'] });
    await add('auditor.one', { kind: 'staff', displayName: 'Aud', roles: ['auditor'] });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a submission with a case id and a status only, the same whether the target has an account or not', async () => {
    const authority = await login('bka.de');
    const found = await submit(authority, request(target.phone));
    const missing = await submit(authority, request(NOBODY));
    expect(Object.keys(found.body).sort()).toEqual(['caseId', 'status']);
    expect(Object.keys(missing.body).sort()).toEqual(['caseId', 'status']);
    expect(found.body.status).toBe(missing.body.status);
    expect(found.text).not.toContain(target.accountId);
    expect(`${found.text}${missing.text}`).not.toMatch(/found|TARGET_NOT_FOUND|NO_DATA_RETAINED/);
  });

  it("lists an authority's cases with the same fields and values whether targets exist or not", async () => {
    const authority = await login('bka.de');
    const { caseId: a } = (await submit(authority, request(target.phone))).body;
    const { caseId: b } = (await submit(authority, request(NOBODY))).body;
    const list = (await call('GET', '/desk/v1/requests', authority)).body.requests as Record<
      string,
      unknown
    >[];
    const [one, two] = [a, b].map((id) => list.find((c) => c.caseId === id)!);
    const strip = ({ caseId: _c, ...rest }: Record<string, unknown>) => rest;
    expect(strip(one!)).toEqual(strip(two!));
    expect(JSON.stringify(list)).not.toMatch(/TARGET_NOT_FOUND|NO_DATA_RETAINED|accountId/);
    // Staff see the findings once the rules passed.
    const reviewer = await login('reviewer.one');
    const staff = (await call('GET', '/desk/v1/requests', reviewer)).body.requests as {
      caseId: string;
      targets: { status: string }[];
    }[];
    expect(staff.find((c) => c.caseId === a)?.targets).toEqual([
      expect.objectContaining({ status: 'found', accountId: target.accountId }),
    ]);
    expect(staff.find((c) => c.caseId === b)?.targets).toEqual([
      expect.objectContaining({ status: 'not_found' }),
    ]);
    // A case whose lookup found nobody cannot be approved (and so never produced): staff decline it.
    const approver = await login('approver.one');
    expect((await call('POST', `/desk/v1/requests/${b}/approve`, approver)).body.error).toMatchObject({
      code: 'LEGAL_CASE_STATE',
      details: { findings: 'rejected', reasons: ['TARGET_NOT_FOUND'] },
    });
  });

  it('writes the same public leaf at submission whether the target has an account or not', async () => {
    const authority = await login('bka.de');
    const before = (await leaves()).length;
    await submit(authority, request(target.phone));
    await submit(authority, request(NOBODY));
    const [one, two] = (await leaves()).slice(before) as Extract<PublicLeaf, { type: 'request' }>[];
    expect({ ...one, case: '' }).toEqual({ ...two, case: '' });
    expect(one!.reasons).not.toContain('TARGET_NOT_FOUND');
  });

  it('publishes no free text: requested categories and decline reasons stay in the case record', async () => {
    const authority = await login('bka.de');
    const secret = '+49 151 2345 6789';
    const { caseId } = (
      await submit(
        authority,
        request(target.phone, {
          requestedCategories: ['phone_number', `number of ${secret}`, 'messages'],
        }),
      )
    ).body;
    const reviewer = await login('reviewer.one');
    const reason = `duplicate of the request about ${secret}`;
    expect((await call('POST', `/desk/v1/requests/${caseId}/decline`, reviewer, { reason })).status).toBe(
      204,
    );
    const published = await leaves();
    const text = JSON.stringify(published);
    expect(text).not.toContain('2345');
    expect(text).not.toContain('duplicate');
    // Every string a leaf carries comes from the closed vocabulary.
    const vocabulary = new Set<string>(Object.values(PUBLIC_LEAF_VOCABULARY).flat());
    for (const leaf of published) {
      if (leaf.type === 'request') {
        for (const word of [...leaf.reasons, ...leaf.requested, ...leaf.eligible])
          expect(vocabulary, word).toContain(word);
      }
      if (leaf.type === 'rejection') expect(PUBLIC_LEAF_VOCABULARY.declineReasons).toContain(leaf.reason);
    }
    const staff = (await call('GET', '/desk/v1/requests', reviewer)).body.requests as {
      caseId: string;
      declineReason?: string;
    }[];
    expect(staff.find((c) => c.caseId === caseId)?.declineReason).toBe(reason);
  });

  it('clamps disclosed IP records to the decided range; auditors see metadata, not packages', async () => {
    const authority = await login('bka.de');
    const { caseId } = (await submit(authority, request(target.phone))).body;
    for (const approver of ['approver.one', 'approver.two'])
      expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, await login(approver))).status).toBe(
        200,
      );
    const approver = await login('approver.one');
    expect((await call('POST', `/desk/v1/requests/${caseId}/produce`, approver)).status).toBe(200);
    const pkg = (await call('GET', `/desk/v1/requests/${caseId}/package`, authority)).body;
    const records = JSON.parse(pkg.payload).accounts[0].ip_addresses as {
      ip: string;
      firstSeen: number;
      lastSeen: number;
    }[];
    expect(records).toEqual([
      { ip: '198.51.100.7', firstSeen: Date.UTC(2026, 5, 1), lastSeen: Date.UTC(2026, 7, 1) - 1 },
    ]);
    const auditor = await login('auditor.one');
    const refused = await call('GET', `/desk/v1/requests/${caseId}/package`, auditor);
    expect(refused.body.error.code).toBe('LEGAL_NOT_AUTHORIZED');
    const listed = (await call('GET', '/desk/v1/requests', auditor)).body.requests as Record<
      string,
      unknown
    >[];
    const entry = listed.find((c) => c.caseId === caseId)!;
    expect(entry).toMatchObject({ caseId, status: 'produced' });
    expect(JSON.stringify(listed)).not.toContain(target.accountId);
    expect(JSON.stringify(listed)).not.toContain(target.phone);
  });

  it('never lets a report reach an authority or a package; legal staff cannot read reports', async () => {
    const marker = `REPORT-MARKER-${Date.now()}`;
    const reporter = await server.register(nextPhone());
    const chat = await reporter.http.openDirect(target.accountId);
    const { reportId } = await reporter.http.fileReport({
      chatId: chat.groupId,
      reason: 'illegal',
      comment: marker,
      messages: [{ senderAccountId: target.accountId, sentAtMs: clock.now(), text: marker }],
    });
    const authority = await login('bka.de');
    const { caseId } = (
      await submit(
        authority,
        request(target.phone, {
          requestedCategories: ['phone_number', 'ip_addresses', 'messages', 'reports'],
        }),
      )
    ).body;
    for (const approver of ['approver.one', 'approver.two'])
      expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, await login(approver))).status).toBe(
        200,
      );
    expect(
      (await call('POST', `/desk/v1/requests/${caseId}/produce`, await login('approver.one'))).status,
    ).toBe(200);
    const pkg = await call('GET', `/desk/v1/requests/${caseId}/package`, authority);
    expect(pkg.text).not.toContain(marker);
    const accounts = JSON.parse(pkg.body.payload).accounts as Record<string, unknown>[];
    for (const account of accounts)
      expect(
        Object.keys(account).every((k) => ['accountId', 'phone_number', 'ip_addresses'].includes(k)),
      ).toBe(true);
    // The moderation queue is closed to authorities and to every legal-desk role.
    for (const who of ['bka.de', 'approver.one', 'reviewer.one', 'auditor.one']) {
      const token = await login(who);
      for (const path of ['/desk/v1/moderation/reports', `/desk/v1/moderation/reports/${reportId}`]) {
        const reply = await call('GET', path, token);
        expect(reply.body.error?.code, `${who} ${path}`).toBe('LEGAL_NOT_AUTHORIZED');
        expect(reply.text).not.toContain(marker);
      }
    }
    // Nothing of it in the public log either.
    expect(JSON.stringify(await leaves())).not.toContain(marker);
  });

  it("binds an authority's kind and name to its account", async () => {
    const authority = await login('bka.de');
    for (const other of [
      { ...AUTHORITY, name: 'Bundesgerichtshof' },
      { ...AUTHORITY, kind: 'court' },
    ]) {
      const reply = await call('POST', '/desk/v1/requests', authority, {
        request: request(target.phone, { authority: other }),
        documentBase64: DOC,
      });
      expect(reply.body.error?.code, reply.text).toBe('LEGAL_NOT_AUTHORIZED');
    }
  });
});
