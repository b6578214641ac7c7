import Fastify from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deskRoutes } from '../packages/server/src/http/routes/desk-routes.ts';
import { nextPhone, startTestServer, type TestServer, unsafeTestingClock } from './support/harness.ts';

const PASSWORD = 'correct horse battery staple';
const DOC = Buffer.from('%PDF-1.7 the court order').toString('base64');
const request = (country: string) => ({
  authority: { name: 'A court', kind: 'court', country },
  instrument: {
    type: 'court_order',
    issuingCourt: 'A court',
    reference: `ref-${country}`,
    issueDate: '2026-03-02',
  },
  offence: { category: 'terrorism', confirmsSuspect: true },
  targets: [{ username: 'desk_target' }],
  timeRange: { from: '2026-02-01', to: '2026-03-01' },
  requestedCategories: ['phone_number'],
});

/** Who calls: nobody, a messenger user, an authority (the case's owner or another), or staff by role. */
type Caller =
  | 'anonymous'
  | 'user'
  | 'owner_authority'
  | 'other_authority'
  | 'intake'
  | 'reviewer'
  | 'approver'
  | 'auditor';
const CALLERS: readonly Caller[] = [
  'anonymous',
  'user',
  'owner_authority',
  'other_authority',
  'intake',
  'reviewer',
  'approver',
  'auditor',
];

/**
 * The rule for every desk route: who may call it. A route registered without a rule here fails the
 * test, so a new route cannot ship without its authorization being tested.
 */
const RULES: Record<
  string,
  {
    allowed: readonly Caller[];
    body?: (country: string) => unknown;
    /** Errors an allowed caller may get for what it sent (past authorization), never a refusal. */
    answers?: readonly string[];
  }
> = {
  'POST /desk/v1/login': { allowed: CALLERS }, // the way in; tested by desk-api.test.ts
  // Any session may end itself; tested (and that it ends only its own) in desk-login-hardening.test.ts.
  'POST /desk/v1/logout': {
    allowed: ['owner_authority', 'other_authority', 'intake', 'reviewer', 'approver', 'auditor'],
  },
  'GET /desk/v1/me': {
    allowed: ['owner_authority', 'other_authority', 'intake', 'reviewer', 'approver', 'auditor'],
  },
  'GET /desk/v1/requests': {
    allowed: ['owner_authority', 'other_authority', 'intake', 'reviewer', 'approver', 'auditor'],
  },
  // One case: its authority, and staff who work or audit cases (another authority: not found).
  'GET /desk/v1/requests/:caseId': {
    allowed: ['owner_authority', 'intake', 'reviewer', 'approver', 'auditor'],
  },
  // The court document: auditors see metadata only.
  'GET /desk/v1/requests/:caseId/document': {
    allowed: ['owner_authority', 'intake', 'reviewer', 'approver'],
  },
  'POST /desk/v1/requests': {
    allowed: ['owner_authority', 'other_authority', 'intake'],
    body: (country) => ({ request: request(country), documentBase64: DOC }),
  },
  'POST /desk/v1/requests/:caseId/approve': { allowed: ['approver'] },
  'POST /desk/v1/requests/:caseId/decline': {
    allowed: ['intake', 'reviewer', 'approver'],
    body: () => ({ reason: 'not this time' }),
  },
  'POST /desk/v1/requests/:caseId/produce': { allowed: ['approver'] },
  // Auditors see metadata, never a package's contents.
  'GET /desk/v1/requests/:caseId/package': { allowed: ['owner_authority', 'approver'] },
  'GET /desk/v1/audit': { allowed: ['auditor'] },
  // A staff member's own credentials (desk-account.test.ts changes them with the right ones; here the
  // password is wrong, so nothing changes).
  'POST /desk/v1/account/totp': {
    allowed: ['intake', 'reviewer', 'approver', 'auditor'],
    body: () => ({ password: 'not the password', code: '123456' }),
    answers: ['DESK_CREDENTIALS_WRONG'],
  },
  'DELETE /desk/v1/account/totp': { allowed: ['intake', 'reviewer', 'approver', 'auditor'] },
  'POST /desk/v1/account/totp/confirm': {
    allowed: ['intake', 'reviewer', 'approver', 'auditor'],
    body: () => ({ code: '123456' }),
    answers: ['DESK_TOTP_CHANGE_NOT_STARTED'],
  },
  'POST /desk/v1/account/password': {
    allowed: ['intake', 'reviewer', 'approver', 'auditor'],
    body: () => ({ currentPassword: 'not the password', code: '123456', newPassword: 'long enough new one' }),
    answers: ['DESK_CREDENTIALS_WRONG'],
  },
};

/** Every route the desk plugin registers (method and full path), found by registering it anew. */
async function registeredDeskRoutes(server: TestServer): Promise<string[]> {
  const probe = Fastify();
  const routes: string[] = [];
  probe.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  await deskRoutes(probe, server.app.desk);
  await probe.ready();
  await probe.close();
  return routes;
}

describe('desk authorization: every route against every kind of caller', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 2, 10, 9));
  let server: TestServer;
  const secrets = new Map<string, string>();
  const ids = new Map<Caller, string>();
  const tokens = new Map<Caller, string>();

  async function call(method: string, path: string, authorization?: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(authorization ? { authorization } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    // The court document is bytes, everything else JSON.
    const json = response.headers.get('content-type')?.includes('json');
    return { status: response.status, body: text ? (json ? JSON.parse(text) : text) : undefined };
  }
  const login = async (username: string) => {
    // A one-time code is accepted once: each login is in a time step of its own.
    clock.advance(30_000);
    const code = new TOTP({ secret: Secret.fromBase32(secrets.get(username)!), label: username }).generate({
      timestamp: clock.now(),
    });
    const reply = await call('POST', '/desk/v1/login', undefined, { username, password: PASSWORD, code });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body.token as string;
  };
  const auditOf = async (caller: Caller) =>
    (
      (await call('GET', '/desk/v1/audit', `Desk ${tokens.get('auditor')}`)).body.entries as {
        accountId: string;
        action: string;
        caseId: string | null;
      }[]
    ).filter((e) => e.accountId === ids.get(caller));

  beforeAll(async () => {
    server = await startTestServer({ clock });
    const add = async (caller: Caller, kind: 'staff' | 'authority', extra: Record<string, unknown>) => {
      const username = caller.replace('_', '.');
      const created = await server.app.desk.createAccount({
        kind,
        username,
        // An authority files in the name and kind its account was verified with.
        displayName: kind === 'authority' ? 'A court' : username,
        password: PASSWORD,
        ...extra,
      });
      secrets.set(username, created.totpSecret);
      ids.set(caller, created.id);
      tokens.set(caller, await login(username));
    };
    await add('owner_authority', 'authority', { country: 'DE', authorityKind: 'court' });
    await add('other_authority', 'authority', { country: 'FR', authorityKind: 'court' });
    for (const role of ['intake', 'reviewer', 'approver', 'auditor'] as const)
      await add(role, 'staff', { roles: [role] });
    const user = await server.register(nextPhone());
    await user.http.setUsername('desk_target');
    tokens.set('user', user.token);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('has a rule for every registered desk route', async () => {
    const routes = await registeredDeskRoutes(server);
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const route of routes)
      expect(Object.keys(RULES), `no authorization rule for ${route}`).toContain(route);
  });

  it('lets each route be used only by its callers; everyone else is refused before anything happens', async () => {
    const headersOf = (caller: Caller): (string | undefined)[] =>
      caller === 'anonymous'
        ? [undefined, 'Desk ', 'Desk not-a-session']
        : caller === 'user'
          ? // A messenger session opens nothing on the desk, however it is presented.
            [`Bearer ${tokens.get('user')}`, `Desk ${tokens.get('user')}`]
          : [`Desk ${tokens.get(caller)}`];

    for (const route of await registeredDeskRoutes(server)) {
      // Logging out would end the session the rest of this loop uses: checked after it.
      if (route === 'POST /desk/v1/login' || route === 'POST /desk/v1/logout') continue;
      const rule = RULES[route]!;
      const [method, pattern] = route.split(' ') as [string, string];
      for (const caller of CALLERS) {
        // A fresh case of the owner authority for every attempt, so no refusal hides behind state.
        const { caseId } = (
          await call('POST', '/desk/v1/requests', `Desk ${tokens.get('owner_authority')}`, {
            request: request('DE'),
            documentBase64: DOC,
          })
        ).body as { caseId: string };
        const path = pattern.replace(':caseId', caseId);
        const country = caller === 'other_authority' ? 'FR' : 'DE';
        for (const authorization of headersOf(caller)) {
          const casesBefore = (await server.app.storage.legalCases.list()).length;
          const reply = await call(method, path, authorization, rule.body?.(country));
          const what = `${caller} ${route} (${authorization?.split(' ')[0] ?? 'no header'})`;
          const code = reply.body?.error?.code as string | undefined;
          // The owner's package and the approver's production need a produced or approved case:
          // their allowed answer may be LEGAL_CASE_STATE, never a refusal.
          const allowed =
            rule.allowed.includes(caller) && !(caller === 'other_authority' && path.includes(caseId));
          if (allowed) {
            expect(
              reply.status < 300 ||
                code === 'LEGAL_CASE_STATE' ||
                rule.answers?.includes(code ?? '') === true,
              `${what}: ${JSON.stringify(reply.body)}`,
            ).toBe(true);
          } else {
            expect(
              caller === 'anonymous' || caller === 'user'
                ? code === 'DESK_SESSION_INVALID' && reply.status === 401
                : // Another authority learns not even that the case exists.
                  caller === 'other_authority' && path.includes(caseId)
                  ? code === 'LEGAL_CASE_NOT_FOUND' || code === 'LEGAL_NOT_AUTHORIZED'
                  : code === 'LEGAL_NOT_AUTHORIZED' && reply.status === 403,
              `${what}: ${reply.status} ${JSON.stringify(reply.body)}`,
            ).toBe(true);
            // A refused call changed nothing: no case was added, none moved on.
            expect((await server.app.storage.legalCases.list()).length).toBe(casesBefore);
            expect((await server.app.storage.legalCases.byId(caseId))?.status).toBe('awaiting_approval');
          }
        }
      }
    }
  });

  it('lets a session end itself on the server, and no other', async () => {
    for (const authorization of [undefined, 'Desk ', 'Desk not-a-session', `Bearer ${tokens.get('user')}`])
      expect((await call('POST', '/desk/v1/logout', authorization)).body.error.code).toBe(
        'DESK_SESSION_INVALID',
      );
    const first = `Desk ${await login('reviewer')}`;
    const second = `Desk ${await login('reviewer')}`;
    expect((await call('POST', '/desk/v1/logout', first)).status).toBe(204);
    expect((await call('GET', '/desk/v1/requests', first)).body.error.code).toBe('DESK_SESSION_INVALID');
    expect((await call('GET', '/desk/v1/requests', second)).status).toBe(200);
    expect((await auditOf('reviewer')).map((e) => e.action)).toContain('logout');
  });

  it('shows an authority its own requests only, and only its own package', async () => {
    const own = (await call('GET', '/desk/v1/requests', `Desk ${tokens.get('owner_authority')}`)).body
      .requests;
    const others = (await call('GET', '/desk/v1/requests', `Desk ${tokens.get('other_authority')}`)).body
      .requests;
    const all = (await call('GET', '/desk/v1/requests', `Desk ${tokens.get('auditor')}`)).body.requests;
    const ownIds = new Set(own.map((c: { caseId: string }) => c.caseId));
    const cases = await server.app.storage.legalCases.list();
    expect(own.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    expect(all.length).toBe(own.length + others.length + cases.filter((c) => c.authorityId === null).length);
    for (const c of cases) expect(ownIds.has(c.id)).toBe(c.authorityId === ids.get('owner_authority'));
    for (const c of others) expect(ownIds.has(c.caseId)).toBe(false);
    // An authority may not file for another country.
    const foreign = await call('POST', '/desk/v1/requests', `Desk ${tokens.get('owner_authority')}`, {
      request: request('FR'),
      documentBase64: DOC,
    });
    expect(foreign.body.error.code).toBe('LEGAL_NOT_AUTHORIZED');
  });

  it('shows each caller of a case what its role allows, and offers only the actions it may take', async () => {
    const { caseId } = (
      await call('POST', '/desk/v1/requests', `Desk ${tokens.get('owner_authority')}`, {
        request: request('DE'),
        documentBase64: DOC,
      })
    ).body;
    const detail = async (caller: Caller) =>
      (await call('GET', `/desk/v1/requests/${caseId}`, `Desk ${tokens.get(caller)}`)).body;

    const owner = await detail('owner_authority');
    expect(owner.summary).toMatchObject({ caseId, status: 'awaiting_approval', country: 'DE' });
    expect(owner.request.targets).toEqual([{ username: 'desk_target' }]);
    // Whether a target has an account is for staff: the authority sees no decision, no findings.
    expect(owner).not.toHaveProperty('decision');
    expect(owner).not.toHaveProperty('approvals');
    expect(owner.summary).not.toHaveProperty('targets');
    expect(owner.actions).toEqual(['read_document']);

    const intake = await detail('intake');
    expect(intake.decision.outcome).toBe('eligible');
    expect(intake.decision.targets).toHaveLength(1);
    expect(intake.approvals).toEqual([]);
    expect(intake.approvalsRequired).toBe(2);
    expect(intake.commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(intake.actions).toEqual(['read_document', 'decline']);

    expect((await detail('approver')).actions).toEqual(['read_document', 'approve', 'decline']);
    await call('POST', `/desk/v1/requests/${caseId}/approve`, `Desk ${tokens.get('approver')}`);
    const approved = await detail('approver');
    expect(approved.actions).toEqual(['read_document', 'decline']);
    expect(approved.approvals).toEqual([{ username: 'approver', displayName: 'approver' }]);

    // Auditors: metadata only (no targets, no findings, no document, no actions).
    const auditor = await detail('auditor');
    expect(auditor.request).not.toHaveProperty('targets');
    expect(auditor.targetCount).toBe(1);
    expect(auditor.decision).not.toHaveProperty('targets');
    expect(auditor.decision).not.toHaveProperty('accounts');
    expect(auditor.summary).not.toHaveProperty('targets');
    expect(auditor.actions).toEqual([]);
    expect(JSON.stringify(auditor)).not.toContain('desk_target');

    // The court document, byte for byte, to its authority and to staff who work cases.
    for (const caller of ['owner_authority', 'intake'] as const) {
      const response = await fetch(`${server.url}/desk/v1/requests/${caseId}/document`, {
        headers: { authorization: `Desk ${tokens.get(caller)}` },
      });
      expect(Buffer.from(await response.arrayBuffer()).toString('base64')).toBe(DOC);
    }
    const unknown = await call('GET', '/desk/v1/requests/c_nothing', `Desk ${tokens.get('intake')}`);
    expect(unknown.body.error.code).toBe('LEGAL_CASE_NOT_FOUND');
    const intakeAudit = (await auditOf('intake')).filter((e) => e.caseId === caseId).map((e) => e.action);
    expect(intakeAudit).toEqual(expect.arrayContaining(['read_case', 'read_document']));
    expect((await auditOf('auditor')).map((e) => e.action)).toContain('read_document_denied');
  });

  it('never lets one approver approve twice, or approve alone', async () => {
    const { caseId } = (
      await call('POST', '/desk/v1/requests', `Desk ${tokens.get('owner_authority')}`, {
        request: request('DE'),
        documentBase64: DOC,
      })
    ).body;
    const approver = `Desk ${tokens.get('approver')}`;
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, approver)).body).toEqual({
      approvals: 1,
      approved: false,
    });
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, approver)).body.error.code).toBe(
      'LEGAL_ALREADY_APPROVED',
    );
    expect((await call('POST', `/desk/v1/requests/${caseId}/produce`, approver)).body.error.code).toBe(
      'LEGAL_CASE_STATE',
    );
    // A second session of the same person is the same person.
    const again = await login('approver');
    expect((await call('POST', `/desk/v1/requests/${caseId}/approve`, `Desk ${again}`)).body.error.code).toBe(
      'LEGAL_ALREADY_APPROVED',
    );
    expect((await server.app.storage.legalCases.byId(caseId))?.status).toBe('awaiting_approval');
  });

  it('logs every staff action, refusals included', async () => {
    const reviewer = await auditOf('reviewer');
    const actions = new Set(reviewer.map((e) => e.action));
    for (const action of [
      'login',
      'list',
      'decline',
      'submit_denied',
      'approve_denied',
      'produce_denied',
      'read_audit_denied',
      'download_package_denied',
    ])
      expect(actions, action).toContain(action);
    const approver = new Set((await auditOf('approver')).map((e) => e.action));
    for (const action of ['approve', 'produce', 'decline', 'download_package'])
      expect(approver, action).toContain(action);
    expect(new Set((await auditOf('intake')).map((e) => e.action))).toContain('submit');
    expect(new Set((await auditOf('auditor')).map((e) => e.action))).toContain('read_audit');
    // Case-bound actions name their case.
    expect(reviewer.filter((e) => e.action === 'decline').every((e) => e.caseId?.startsWith('c_'))).toBe(
      true,
    );
  });

  it('ends sessions after 8 hours (the clock is the server’s)', async () => {
    const session = `Desk ${await login('reviewer')}`;
    expect((await call('GET', '/desk/v1/requests', session)).status).toBe(200);
    clock.advance(8 * 3_600_000 - 1);
    expect((await call('GET', '/desk/v1/requests', session)).status).toBe(200);
    clock.advance(1);
    expect((await call('GET', '/desk/v1/requests', session)).body.error.code).toBe('DESK_SESSION_INVALID');
  });
});
