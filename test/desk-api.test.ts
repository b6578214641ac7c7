import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';

const PASSWORD = 'correct horse battery staple';

describe('the legal desk API (staff and authorities, password + TOTP)', () => {
  let server: TestServer;
  const secrets = new Map<string, string>();
  const code = (username: string) =>
    new TOTP({ secret: Secret.fromBase32(secrets.get(username)!), label: username }).generate();

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
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }
  const login = async (username: string) =>
    (await call('POST', '/desk/v1/login', undefined, { username, password: PASSWORD, code: code(username) }))
      .body.token as string;

  beforeAll(async () => {
    server = await startTestServer();
    const add = async (kind: 'staff' | 'authority', username: string, extra: Record<string, unknown>) => {
      const created = await server.app.desk.createAccount({
        kind,
        username,
        displayName: kind === 'authority' ? 'Bundeskriminalamt' : username,
        password: PASSWORD,
        ...extra,
      });
      secrets.set(username, created.totpSecret);
      expect(created.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    };
    await add('staff', 'intake.one', { roles: ['intake'] });
    await add('staff', 'approver.one', { roles: ['approver'] });
    await add('staff', 'approver.two', { roles: ['approver', 'auditor'] });
    await add('authority', 'bka.de', { country: 'DE', authorityKind: 'police' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('requires the password and the one-time code', async () => {
    expect(
      (
        await call('POST', '/desk/v1/login', undefined, {
          username: 'approver.one',
          password: 'wrong password!!',
          code: code('approver.one'),
        })
      ).body,
    ).toMatchObject({ error: { code: 'DESK_LOGIN_FAILED' } });
    expect(
      (
        await call('POST', '/desk/v1/login', undefined, {
          username: 'approver.one',
          password: PASSWORD,
          code: '000000',
        })
      ).body,
    ).toMatchObject({ error: { code: 'DESK_LOGIN_FAILED' } });
    expect((await call('GET', '/desk/v1/requests', 'forged')).body).toMatchObject({
      error: { code: 'DESK_SESSION_INVALID' },
    });
    // A user's session token opens nothing on the desk.
    const user = await server.register(nextPhone());
    expect((await call('GET', '/desk/v1/requests', user.token)).status).toBe(401);
  });

  it("takes an authority's request through two approvers to a package only that authority can download", async () => {
    const target = await server.register(nextPhone());
    const authority = await login('bka.de');
    const request = {
      authority: { name: 'Bundeskriminalamt', kind: 'police', country: 'DE' },
      instrument: {
        type: 'court_order',
        issuingCourt: 'BGH Ermittlungsrichter',
        reference: '1 BGs 1/26',
        issueDate: '2026-01-02',
      },
      offence: { category: 'terrorism', confirmsSuspect: true },
      targets: [{ phone: target.phone }],
      timeRange: { from: '2025-01-01', to: '2030-01-01' },
      requestedCategories: ['phone_number'],
    };
    const document = Buffer.from('%PDF court order').toString('base64');
    expect(
      (
        await call('POST', '/desk/v1/requests', authority, {
          request: { ...request, authority: { ...request.authority, country: 'FR' } },
          documentBase64: document,
        })
      ).body,
    ).toMatchObject({ error: { code: 'LEGAL_NOT_AUTHORIZED' } });
    const submitted = await call('POST', '/desk/v1/requests', authority, {
      request,
      documentBase64: document,
    });
    expect(submitted.status).toBe(201);
    const caseId = submitted.body.caseId as string;

    const intake = await login('intake.one');
    const one = await login('approver.one');
    const two = await login('approver.two');
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, intake)).body).toMatchObject({
      error: { code: 'LEGAL_NOT_AUTHORIZED' },
    });
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, one)).body).toEqual({
      approvals: 1,
      approved: false,
    });
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, one)).body).toMatchObject({
      error: { code: 'LEGAL_ALREADY_APPROVED' },
    });
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, two)).body).toEqual({
      approvals: 2,
      approved: true,
    });
    expect((await call('POST', `/desk/v1/requests/${caseId}/produce`, two)).body.packageHash).toMatch(
      /^[0-9a-f]{64}$/,
    );

    const mine = await call('GET', '/desk/v1/requests', authority);
    // An authority sees its case's id, arrival, status and order end: nothing the lookup found.
    expect(mine.body.requests).toEqual([
      {
        caseId,
        receivedAt: expect.any(Number),
        status: 'produced',
        country: 'DE',
        nonDisclosureUntil: null,
      },
    ]);
    const pkg = await call('GET', `/desk/v1/requests/${caseId}/package`, authority);
    expect(JSON.parse(pkg.body.payload).accounts).toEqual([
      { accountId: target.accountId, phone_number: target.phone },
    ]);
    expect((await call('GET', `/desk/v1/requests/${caseId}/package`, intake)).status).toBe(403);

    const audit = await call('GET', '/desk/v1/audit', two);
    const actions = audit.body.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['login', 'approve', 'produce']));
    expect((await call('GET', '/desk/v1/audit', one)).status).toBe(403);
  });
});
