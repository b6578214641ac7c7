import { Secret, TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, unsafeTestingClock } from './support/harness.ts';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new desk passphrase';

/** Issue 13: a staff member changes their own TOTP secret and password through the desk API. */
describe('desk account: own TOTP and password changes', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 8, 1, 9));
  let server: TestServer;
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
  const codeOf = (secret: string) =>
    new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: clock.now() });
  const code = (username: string) => codeOf(secrets.get(username)!);
  const attempt = (username: string, password: string, totp = code(username)) => {
    clock.advance(30_000);
    return call('POST', '/desk/v1/login', undefined, { username, password, code: totp });
  };
  const login = async (username: string, password = PASSWORD) => {
    const reply = await attempt(username, password);
    expect(reply.status, reply.text).toBe(200);
    return reply.body.token as string;
  };
  const auditActions = async () => {
    const reply = await call('GET', '/desk/v1/audit', await login('auditor.one'));
    return (reply.body.entries as { action: string }[]).map((e) => e.action);
  };

  beforeAll(async () => {
    server = await startTestServer({ clock });
    for (const [username, roles] of [
      ['reviewer.one', ['reviewer']],
      ['reviewer.two', ['reviewer']],
      ['auditor.one', ['auditor']],
    ] as const) {
      const created = await server.app.desk.createAccount({
        kind: 'staff',
        username,
        displayName: username,
        password: PASSWORD,
        roles: [...roles],
      });
      secrets.set(username, created.totpSecret);
    }
    const authority = await server.app.desk.createAccount({
      kind: 'authority',
      username: 'bka.de',
      displayName: 'Bundeskriminalamt',
      password: PASSWORD,
      country: 'DE',
      authorityKind: 'police',
    });
    secrets.set('bka.de', authority.totpSecret);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('changes the TOTP secret: the old one works until a code of the new one confirms it, then only the new one', async () => {
    const token = await login('reviewer.one');
    clock.advance(30_000);
    // A wrong password or a wrong current code is refused with a typed error; nothing waits.
    const wrongPassword = await call('POST', '/desk/v1/account/totp', token, {
      password: 'not my password',
      code: code('reviewer.one'),
    });
    expect(wrongPassword.status).toBe(403);
    expect(wrongPassword.body).toMatchObject({ error: { code: 'DESK_CREDENTIALS_WRONG' } });
    clock.advance(30_000);
    const wrongCode = await call('POST', '/desk/v1/account/totp', token, {
      password: PASSWORD,
      code: String((Number(code('reviewer.one')) + 1) % 1_000_000).padStart(6, '0'),
    });
    expect(wrongCode.body).toMatchObject({ error: { code: 'DESK_CREDENTIALS_WRONG' } });
    expect(
      (await call('POST', '/desk/v1/account/totp/confirm', token, { code: '123456' })).body,
    ).toMatchObject({ error: { code: 'DESK_TOTP_CHANGE_NOT_STARTED' } });

    clock.advance(30_000);
    const started = await call('POST', '/desk/v1/account/totp', token, {
      password: PASSWORD,
      code: code('reviewer.one'),
    });
    expect(started.status, started.text).toBe(200);
    const newSecret = URI.parse(started.body.otpauthUri).secret.base32;
    expect(newSecret).toBe(started.body.totpSecret);
    expect(newSecret).not.toBe(secrets.get('reviewer.one'));

    // Until confirmed, the old secret logs in and the new one does not.
    expect((await attempt('reviewer.one', PASSWORD, codeOf(newSecret))).status).toBe(401);
    expect((await attempt('reviewer.one', PASSWORD)).status).toBe(200);
    // A code of the old secret does not confirm the new one.
    clock.advance(30_000);
    expect(
      (await call('POST', '/desk/v1/account/totp/confirm', token, { code: code('reviewer.one') })).body,
    ).toMatchObject({ error: { code: 'DESK_TOTP_CONFIRM_FAILED' } });
    expect(
      (await call('POST', '/desk/v1/account/totp/confirm', token, { code: codeOf(newSecret) })).status,
    ).toBe(204);

    // After: only the new secret.
    expect((await attempt('reviewer.one', PASSWORD)).body).toMatchObject({
      error: { code: 'DESK_LOGIN_FAILED' },
    });
    const oldSecret = secrets.get('reviewer.one')!;
    secrets.set('reviewer.one', newSecret);
    expect((await attempt('reviewer.one', PASSWORD)).status).toBe(200);
    expect((await attempt('reviewer.one', PASSWORD, codeOf(oldSecret))).status).toBe(401);

    // A change started and then dropped: the waiting secret confirms nothing, the current one stays.
    clock.advance(30_000);
    const dropped = await call('POST', '/desk/v1/account/totp', token, {
      password: PASSWORD,
      code: code('reviewer.one'),
    });
    expect(dropped.status, dropped.text).toBe(200);
    expect((await call('DELETE', '/desk/v1/account/totp', token)).status).toBe(204);
    clock.advance(30_000);
    expect(
      (await call('POST', '/desk/v1/account/totp/confirm', token, { code: codeOf(dropped.body.totpSecret) }))
        .body,
    ).toMatchObject({ error: { code: 'DESK_TOTP_CHANGE_NOT_STARTED' } });
    expect((await attempt('reviewer.one', PASSWORD)).status).toBe(200);

    const actions = await auditActions();
    for (const action of [
      'totp_change_cancelled',
      'totp_change_failed',
      'totp_change_started',
      'totp_change_confirm_failed',
      'totp_changed',
    ])
      expect(actions).toContain(action);
  });

  it('changes the password: current password and code needed, 12 characters, other sessions end', async () => {
    const other = await login('reviewer.two');
    const token = await login('reviewer.two');
    clock.advance(30_000);
    expect(
      (
        await call('POST', '/desk/v1/account/password', token, {
          currentPassword: PASSWORD,
          code: code('reviewer.two'),
          newPassword: 'too short',
        })
      ).body,
    ).toMatchObject({ error: { code: 'DESK_PASSWORD_TOO_SHORT' } });
    expect(
      (
        await call('POST', '/desk/v1/account/password', token, {
          currentPassword: 'not my password',
          code: code('reviewer.two'),
          newPassword: NEW_PASSWORD,
        })
      ).body,
    ).toMatchObject({ error: { code: 'DESK_CREDENTIALS_WRONG' } });
    // Refused attempts use up no time step: the same code then serves the right attempt.
    const changed = await call('POST', '/desk/v1/account/password', token, {
      currentPassword: PASSWORD,
      code: code('reviewer.two'),
      newPassword: NEW_PASSWORD,
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toEqual({ endedSessions: 1 });
    // This session goes on; the other one ended.
    expect((await call('GET', '/desk/v1/me', token)).status).toBe(200);
    expect((await call('GET', '/desk/v1/me', other)).body).toMatchObject({
      error: { code: 'DESK_SESSION_INVALID' },
    });
    expect((await attempt('reviewer.two', PASSWORD)).body).toMatchObject({
      error: { code: 'DESK_LOGIN_FAILED' },
    });
    await login('reviewer.two', NEW_PASSWORD);
    expect(await auditActions()).toEqual(
      expect.arrayContaining(['password_change_failed', 'password_changed']),
    );
  });

  it('is for staff: an authority is refused', async () => {
    const token = await login('bka.de');
    clock.advance(30_000);
    expect(
      (await call('POST', '/desk/v1/account/totp', token, { password: PASSWORD, code: code('bka.de') })).body,
    ).toMatchObject({ error: { code: 'LEGAL_NOT_AUTHORIZED' } });
  });
});
