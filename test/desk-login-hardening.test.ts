import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import argon2 from 'argon2';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer, unsafeTestingClock } from './support/harness.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const PASSWORD = 'correct horse battery staple';
const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Issue 11 item 6: the staff console against OWASP ASVS 5.0 basics. Each `it` is one point of the
 * issue. Requests come through a trusted proxy (127.0.0.1) that names the client, so a test can
 * speak from several addresses.
 */
describe('desk logins (ASVS 5.0 basics)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-desk-login-'));
  const sqlitePath = join(dir, 'courier.db');
  const keyFile = join(dir, 'operator.key');
  const clock = new unsafeTestingClock(Date.UTC(2026, 7, 10, 9));
  let server: TestServer;
  const secrets = new Map<string, string>();
  const ids = new Map<string, string>();

  async function call(
    method: string,
    path: string,
    options: { token?: string; ip?: string; body?: unknown },
  ) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        'x-forwarded-for': options.ip ?? '192.0.2.1',
        ...(options.body ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Desk ${options.token}` } : {}),
      },
      ...(options.body ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
  }
  const code = (username: string) =>
    new TOTP({ secret: Secret.fromBase32(secrets.get(username)!), label: username }).generate({
      timestamp: clock.now(),
    });
  const attempt = (username: string, password: string, ip?: string, totp?: string) =>
    call('POST', '/desk/v1/login', {
      ...(ip ? { ip } : {}),
      body: { username, password, code: totp ?? (secrets.has(username) ? code(username) : '123456') },
    });
  /** A successful login, in a time step of its own. */
  const login = async (username: string, ip?: string) => {
    clock.advance(30_000);
    const reply = await attempt(username, PASSWORD, ip);
    expect(reply.status, reply.text).toBe(200);
    return reply.body.token as string;
  };
  const audit = async () => {
    const reply = await call('GET', '/desk/v1/audit', { token: await login('auditor.one') });
    return reply.body.entries as { accountId: string; action: string; ip?: string | null }[];
  };

  beforeAll(async () => {
    server = await startTestServer({
      sqlitePath,
      clock,
      config: {
        trustedProxies: ['127.0.0.1'],
        transparency: { keyFile },
        desk: { failedLoginsPerUser: 3, failedLoginsPerIp: 6, failedLoginWindowMs: 15 * 60_000 },
      },
    });
    for (const [username, roles] of [
      ['reviewer.one', ['reviewer']],
      ['reviewer.two', ['reviewer']],
      ['auditor.one', ['auditor']],
      ['victim.one', ['approver']],
      ['leaver.one', ['intake']],
    ] as const) {
      const created = await server.app.desk.createAccount({
        kind: 'staff',
        username,
        displayName: username,
        password: PASSWORD,
        roles: [...roles],
      });
      secrets.set(username, created.totpSecret);
      ids.set(username, created.id);
    }
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('throttles failed logins by username, with a typed error, even with the right password after', async () => {
    for (let i = 0; i < 3; i++) {
      const reply = await attempt('victim.one', 'wrong password!!', `198.51.100.${i + 1}`);
      expect(reply.body.error.code).toBe('DESK_LOGIN_FAILED');
    }
    clock.advance(30_000);
    const locked = await attempt('victim.one', PASSWORD, '198.51.100.9');
    expect(locked.status).toBe(429);
    expect(locked.body.error).toMatchObject({ code: 'DESK_LOGIN_THROTTLED' });
    // Another account is not affected; the window passes and the victim logs in again.
    await login('reviewer.one', '198.51.100.9');
    clock.advance(15 * 60_000);
    await login('victim.one', '198.51.100.9');
  });

  it('throttles failed logins by client address across usernames', async () => {
    const ip = '203.0.113.50';
    for (let i = 0; i < 6; i++)
      expect((await attempt(`nobody.${i}`, 'wrong password!!', ip)).body.error.code).toBe(
        'DESK_LOGIN_FAILED',
      );
    clock.advance(30_000);
    const blocked = await attempt('reviewer.two', PASSWORD, ip);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('DESK_LOGIN_THROTTLED');
    // From elsewhere the same account logs in.
    await login('reviewer.two', '203.0.113.51');
  });

  it('runs the password check for an unknown username too, so its timing tells nothing', async () => {
    const verify = vi.spyOn(argon2, 'verify');
    try {
      await attempt('reviewer.one', 'wrong password!!', '192.0.2.77');
      const known = verify.mock.calls.length;
      verify.mockClear();
      await attempt('no.such.user', 'wrong password!!', '192.0.2.77');
      expect(known).toBe(1);
      expect(verify.mock.calls.length).toBe(1);
    } finally {
      verify.mockRestore();
    }
  });

  it('accepts a one-time code once', async () => {
    clock.advance(30_000);
    const totp = code('reviewer.two');
    expect((await attempt('reviewer.two', PASSWORD, '192.0.2.10', totp)).status).toBe(200);
    const replay = await attempt('reviewer.two', PASSWORD, '192.0.2.11', totp);
    expect(replay.body.error?.code, replay.text).toBe('DESK_LOGIN_FAILED');
  });

  it('ends a session on the server at logout', async () => {
    const token = await login('reviewer.one');
    expect((await call('GET', '/desk/v1/requests', { token })).status).toBe(200);
    expect((await call('POST', '/desk/v1/logout', { token })).status).toBe(204);
    const after = await call('GET', '/desk/v1/requests', { token });
    expect(after.body.error.code).toBe('DESK_SESSION_INVALID');
    expect(await server.app.storage.desk.session(hashToken(token))).toBeUndefined();
  });

  it('audits failed logins, with the client address', async () => {
    await attempt('reviewer.one', 'wrong password!!', '192.0.2.99');
    await attempt('unknown.person', 'wrong password!!', '192.0.2.98');
    const entries = await audit();
    expect(entries).toContainEqual(
      expect.objectContaining({
        accountId: ids.get('reviewer.one'),
        action: 'login_failed',
        ip: '192.0.2.99',
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ accountId: '', action: 'login_failed', ip: '192.0.2.98' }),
    );
  });

  it('purges expired sessions in the retention run', async () => {
    const token = await login('reviewer.one');
    clock.advance(8 * 3_600_000);
    const report = await server.app.retention.run();
    expect(report.deskSessions).toBeGreaterThanOrEqual(1);
    expect(await server.app.storage.desk.session(hashToken(token))).toBeUndefined();
  });

  it('disables and enables a staff account from the command line, ending its sessions', async () => {
    const configFile = join(dir, 'courier.json');
    writeFileSync(
      configFile,
      JSON.stringify({ storage: { kind: 'sqlite', path: sqlitePath }, transparency: { keyFile } }),
    );
    const desk = (sub: string) =>
      promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          join(root, 'packages/server/src/main.ts'),
          'desk',
          sub,
          'leaver.one',
          '--config',
          configFile,
        ],
        { cwd: root, env: { ...process.env, COURIER_CONFIG: '', COURIER_SQLITE_PATH: '' } },
      );
    const token = await login('leaver.one');
    await desk('disable-staff');
    expect((await call('GET', '/desk/v1/requests', { token })).body.error.code).toBe('DESK_SESSION_INVALID');
    clock.advance(30_000);
    expect((await attempt('leaver.one', PASSWORD)).body.error.code).toBe('DESK_LOGIN_FAILED');
    await desk('enable-staff');
    await login('leaver.one');
    expect((await audit()).map((e) => e.action)).toContain('login_failed');
  }, 60_000);
});
