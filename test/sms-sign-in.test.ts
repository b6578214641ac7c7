import { CourierHttp } from '@courier/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CapturingSms,
  nextPhone,
  startTestServer,
  type TestServer,
  unsafeTestingClock,
} from './support/harness.ts';

/**
 * Issue 11 item 5, over HTTP: the code request answers alike for every number, probes from one
 * place cannot lock the owner out, only SMS really sent count, erasing an account does not reset its
 * number's SMS limit, and the operator's global SMS budget holds. Client addresses are set through
 * X-Forwarded-For from a trusted proxy (127.0.0.1), as behind a load balancer.
 */

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** An SMS gateway that can be made to refuse. */
class FlakySms extends CapturingSms {
  failing = false;
  override async send(to: string, text: string): Promise<void> {
    if (this.failing) throw new Error('gateway down');
    await super.send(to, text);
  }
}

describe('signing in by SMS code (issue 11 item 5)', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 6, 1));
  const sms = new FlakySms();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      clock,
      sms,
      config: {
        trustedProxies: ['127.0.0.1'],
        auth: { requestsPerIp: 1000, codesPerPhone: 6, codesPerPhonePerSource: 3, smsPerWindow: 1000 },
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = async (path: string, body: unknown, from: string): Promise<Reply> => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const requestCode = (phone: string, intent: 'register' | 'login', from: string) =>
    post('/v1/auth/code', { phone, intent }, from);
  /** The shape of a reply: its status and its fields, without their (random) values. */
  const shape = (r: Reply) => ({ status: r.status, keys: Object.keys(r.body).sort() });

  it('answers a code request alike whether or not the number has an account, for either intent', async () => {
    const owner = await server.register(nextPhone());
    const stranger = nextPhone();
    const replies = [
      await requestCode(owner.phone, 'register', '198.51.100.1'),
      await requestCode(owner.phone, 'login', '198.51.100.1'),
      await requestCode(stranger, 'register', '198.51.100.1'),
      await requestCode(stranger, 'login', '198.51.100.1'),
    ];
    for (const reply of replies) expect(shape(reply)).toEqual(shape(replies[0]!));
    expect(replies[0]!.status).toBe(200);
    expect(replies[2]!.body.expiresAtMs).toBe(replies[0]!.body.expiresAtMs);
  });

  it('creates the account or signs in only once the code is verified, and says which', async () => {
    const phone = nextPhone();
    const http = new CourierHttp(server.url);
    const version = (await http.privacyPolicy()).version;
    await http.requestCode(phone, 'login');
    const first = await http.verifyCode(phone, server.sms.lastCode(phone), 'login', 'a', version);
    expect(first.created).toBe(true);
    await http.requestCode(phone, 'register');
    const second = await http.verifyCode(phone, server.sms.lastCode(phone), 'register', 'b', version);
    expect(second).toMatchObject({ created: false, accountId: first.accountId });
  });

  it('probes of a number from one place do not lock its owner out', async () => {
    const owner = await server.register(nextPhone());
    // Someone else asks for codes for the owner's number until their own source is refused.
    const probes = [];
    for (let i = 0; i < 5; i++)
      probes.push((await requestCode(owner.phone, 'register', '203.0.113.66')).status);
    expect(probes).toEqual([200, 200, 200, 429, 429]);
    // The owner, elsewhere, still gets a code and signs in with it.
    const sent = await post('/v1/auth/code', { phone: owner.phone }, '192.0.2.10');
    expect(sent.status).toBe(200);
    const verified = await post(
      '/v1/auth/verify',
      {
        phone: owner.phone,
        verificationId: sent.body.verificationId,
        code: server.sms.lastCode(owner.phone),
        deviceName: 'own phone',
      },
      '192.0.2.10',
    );
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ accountId: owner.accountId, created: false });
  });

  it('does not let someone else burn or replace the code the owner is about to type', async () => {
    const owner = await server.register(nextPhone());
    const mine = await post('/v1/auth/code', { phone: owner.phone }, '192.0.2.20');
    const myCode = server.sms.lastCode(owner.phone);
    // An attacker asks for another code for the same number and guesses at it until it is spent.
    const theirs = await post('/v1/auth/code', { phone: owner.phone }, '203.0.113.77');
    expect(theirs.status).toBe(200);
    const wrong = myCode === '000000' ? '111111' : '000000';
    for (let i = 0; i < 6; i++) {
      const guess = await post(
        '/v1/auth/verify',
        { phone: owner.phone, verificationId: theirs.body.verificationId, code: wrong, deviceName: 'x' },
        '203.0.113.77',
      );
      expect(guess.status).not.toBe(200);
    }
    const verified = await post(
      '/v1/auth/verify',
      { phone: owner.phone, verificationId: mine.body.verificationId, code: myCode, deviceName: 'own phone' },
      '192.0.2.20',
    );
    expect(verified.status).toBe(200);
  });

  it('counts only SMS that were really sent', async () => {
    const phone = nextPhone();
    sms.failing = true;
    try {
      for (let i = 0; i < 4; i++) {
        const failed = await requestCode(phone, 'register', '192.0.2.30');
        expect(failed.body).toMatchObject({ error: { code: 'AUTH_SMS_FAILED' } });
      }
    } finally {
      sms.failing = false;
    }
    // None of the failures counted: the source's three SMS for this number are all still there.
    for (let i = 0; i < 3; i++) expect((await requestCode(phone, 'register', '192.0.2.30')).status).toBe(200);
    expect((await requestCode(phone, 'register', '192.0.2.30')).body).toMatchObject({
      error: { code: 'AUTH_RATE_LIMITED' },
    });
  });

  it('erasing the account does not reset its number’s SMS limit', async () => {
    const user = await server.register(nextPhone());
    // The number's whole budget (6 per window) is used: one at sign-up, five more from two places.
    for (const from of ['192.0.2.41', '192.0.2.41', '192.0.2.41', '192.0.2.42', '192.0.2.42'])
      expect((await requestCode(user.phone, 'login', from)).status).toBe(200);
    expect((await requestCode(user.phone, 'login', '192.0.2.43')).status).toBe(429);
    await user.http.deleteAccount(user.phone);
    expect((await requestCode(user.phone, 'register', '192.0.2.43')).body).toMatchObject({
      error: { code: 'AUTH_RATE_LIMITED' },
    });
    // The window ends as usual.
    clock.advance(61 * 60_000);
    expect((await requestCode(user.phone, 'register', '192.0.2.43')).status).toBe(200);
  });
});

describe('the global SMS budget and IPv6 sources', () => {
  it('stops sending SMS once the operator’s budget for the window is spent, whatever the number', async () => {
    const clock = new unsafeTestingClock(Date.UTC(2026, 6, 1));
    const server = await startTestServer({
      clock,
      config: { trustedProxies: ['127.0.0.1'], auth: { smsPerWindow: 3 } },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${server.url}/v1/auth/code`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.${50 + i}` },
          body: JSON.stringify({ phone: nextPhone(), intent: 'register' }),
        });
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(server.sms.sent).toHaveLength(3);
      clock.advance(61 * 60_000);
      expect((await new CourierHttp(server.url).requestCode(nextPhone(), 'register')).phone).toBeDefined();
    } finally {
      await server.close();
    }
  });

  it('limits IPv6 clients per /64, not per address', async () => {
    const server = await startTestServer({
      config: { trustedProxies: ['127.0.0.1'], auth: { requestsPerIp: 2 } },
    });
    try {
      const from = async (address: string) =>
        (
          await fetch(`${server.url}/v1/auth/code`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
            body: JSON.stringify({ phone: nextPhone(), intent: 'register' }),
          })
        ).status;
      expect(await from('2001:db8:1:2::1')).toBe(200);
      expect(await from('2001:db8:1:2:ffff::9')).toBe(200);
      // A third address of the same /64 is the same subscriber.
      expect(await from('2001:db8:1:2:abcd:ef01:2345:6789')).toBe(429);
      // Another /64 is another bucket.
      expect(await from('2001:db8:1:3::1')).toBe(200);
    } finally {
      await server.close();
    }
  });
});
