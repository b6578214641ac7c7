import {
  closeCodes,
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  isErrorCode,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ServerFrame,
} from '@courier/protocol';
import { opaqueApplicationMessage } from '@courier/mls';
import { CourierHttp } from '@courier/sdk';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  text,
  unsafeTestingClock,
} from './support/harness.ts';

interface RawSocket {
  ws: WebSocket;
  frames: ServerFrame[];
  closed: Promise<{ code: number; reason: string }>;
  next(type: ServerFrame['type']): Promise<ServerFrame>;
}

async function raw(url: string): Promise<RawSocket> {
  const wsUrl = new URL(GATEWAY_PATH, url);
  wsUrl.protocol = 'ws:';
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES * 2 });
  const frames: ServerFrame[] = [];
  let notify = () => {};
  ws.on('message', (data) => {
    frames.push(decodeServerFrame(new Uint8Array(data as Buffer)));
    notify();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    frames,
    closed,
    next: (type) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${type} frame; got ${JSON.stringify(frames)}`)),
          5000,
        );
        const check = () => {
          const found = frames.find((f) => f.type === type);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        };
        notify = check;
        check();
      }),
  };
}

const hello = (token: string, protocolVersion = PROTOCOL_VERSION) =>
  encodeClientFrame({ type: 'hello', protocolVersion, token, client: 'test' });

describe('bad input on the gateway', () => {
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = await startTestServer({ config: { delivery: { helloTimeoutMs: 300 } } });
    user = await server.register(nextPhone());
  });
  afterAll(async () => {
    await server?.close();
  });

  it('closes with PROTO_HELLO_REQUIRED when the first frame is not a hello', async () => {
    const s = await raw(server.url);
    s.ws.send(encodeClientFrame({ type: 'ping', nonce: 1 }));
    expect(await s.next('error')).toMatchObject({ code: 'PROTO_HELLO_REQUIRED' });
    expect((await s.closed).code).toBe(closeCodes.PROTOCOL_ERROR);
  });

  it('refuses a bad token, an old protocol version, a text frame and silence, each with its code', async () => {
    const badToken = await raw(server.url);
    badToken.ws.send(hello('not-a-token'));
    expect(await badToken.next('error')).toMatchObject({ code: 'AUTH_INVALID_TOKEN' });
    expect((await badToken.closed).code).toBe(closeCodes.UNAUTHORIZED);

    const oldVersion = await raw(server.url);
    oldVersion.ws.send(hello(user.token, 0));
    expect(await oldVersion.next('error')).toMatchObject({ code: 'PROTO_UNSUPPORTED_VERSION' });

    const textFrame = await raw(server.url);
    textFrame.ws.send('hello');
    expect(await textFrame.next('error')).toMatchObject({ code: 'PROTO_TEXT_FRAME' });

    const silent = await raw(server.url);
    expect(await silent.next('error')).toMatchObject({ code: 'PROTO_HELLO_TIMEOUT' });
    expect((await silent.closed).code).toBe(closeCodes.HELLO_TIMEOUT);
  });

  it('answers garbage after hello with typed errors and keeps the connection and data intact', async () => {
    const bob = await server.register(nextPhone());
    const chat = await user.http.openDirect(bob.accountId);
    const receiver = await connectDevice(server.url, bob);
    const s = await raw(server.url);
    s.ws.send(hello(user.token));
    await s.next('ready');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (garbage) => {
        s.ws.send(garbage);
      }),
      { numRuns: 200 },
    );
    s.ws.send(
      encodeClientFrame({
        type: 'send',
        requestId: 7,
        groupId: chat.groupId,
        clientMsgId: 'ok-1',
        payload: opaqueApplicationMessage(chat.groupId, text('still fine')),
      }),
    );
    expect(await s.next('accepted')).toMatchObject({ requestId: 7, groupId: chat.groupId });
    const errors = s.frames.filter((f) => f.type === 'error');
    // Random bytes sometimes decode as a real frame (a send with a bad id, …): any catalog code but INTERNAL.
    for (const e of errors) {
      const code = e.type === 'error' ? e.code : '';
      expect(isErrorCode(code) && code !== 'INTERNAL', code).toBe(true);
    }
    expect((await receiver.waitForMessages(1))[0]?.clientMsgId).toBe('ok-1');
    s.ws.close();
    await receiver.connection.stop();
  });

  it('rejects sends that break the rules without storing anything', async () => {
    const stranger = await server.register(nextPhone());
    const bob = await server.register(nextPhone());
    const chat = await user.http.openDirect(bob.accountId);
    const s = await raw(server.url);
    s.ws.send(hello(stranger.token));
    await s.next('ready');
    const send = (requestId: number, groupId: string, clientMsgId: string, size = 10) =>
      s.ws.send(
        encodeClientFrame({ type: 'send', requestId, groupId, clientMsgId, payload: new Uint8Array(size) }),
      );
    send(1, chat.groupId, 'x-1');
    send(2, chat.groupId, 'bad id with spaces');
    send(3, chat.groupId, 'x-3', 3 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 300));
    const codes = Object.fromEntries(
      s.frames
        .filter((f) => f.type === 'error')
        .map((f) => [f.type === 'error' ? f.requestId : 0, f.type === 'error' ? f.code : '']),
    );
    expect(codes).toEqual({
      1: 'GROUP_NOT_MEMBER',
      2: 'MSG_CLIENT_ID_INVALID',
      3: 'PROTO_PAYLOAD_TOO_LARGE',
    });
    expect((await user.http.group(chat.groupId)).lastSeq).toBe(1);
    s.ws.close();
  });

  it('takes into a group log only MLS application messages for that group, never plaintext', async () => {
    const bob = await server.register(nextPhone());
    const chat = await user.http.openDirect(bob.accountId);
    const other = await user.http.openDirect((await server.register(nextPhone())).accountId);
    const s = await raw(server.url);
    s.ws.send(hello(user.token));
    await s.next('ready');
    const send = (requestId: number, payload: Uint8Array) =>
      s.ws.send(
        encodeClientFrame({
          type: 'send',
          requestId,
          groupId: chat.groupId,
          clientMsgId: `p-${requestId}`,
          payload,
        }),
      );
    send(1, text('plain words'));
    send(2, opaqueApplicationMessage(other.groupId, text('for another chat')));
    // An MLSMessage that is not a PrivateMessage (a key package's wire format).
    send(3, Uint8Array.from([0, 1, 0, 5, 0, 0]));
    send(4, opaqueApplicationMessage(chat.groupId, text('ciphertext-shaped')));
    await s.next('accepted');
    await new Promise((r) => setTimeout(r, 200));
    const codes = Object.fromEntries(
      s.frames
        .filter((f) => f.type === 'error')
        .map((f) => [f.type === 'error' ? f.requestId : 0, f.type === 'error' ? f.code : '']),
    );
    expect(codes).toEqual({ 1: 'MLS_MALFORMED', 2: 'MLS_WRONG_GROUP', 3: 'MLS_MALFORMED' });
    expect((await user.http.group(chat.groupId)).lastSeq).toBe(2);
    s.ws.close();
  });

  it('closes a connection that sends a frame above the maximum size', async () => {
    const s = await raw(server.url);
    s.ws.send(hello(user.token));
    await s.next('ready');
    s.ws.send(new Uint8Array(MAX_FRAME_BYTES + 1));
    expect((await s.closed).code).toBe(1009);
  });
});

describe('bad input on sign-up', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 5, 1));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      clock,
      config: { auth: { maxCodeAttempts: 3, codesPerPhone: 3, requestsPerIp: 1000 } },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses malformed and impossible phone numbers', async () => {
    const http = new CourierHttp(server.url);
    for (const phone of ['12345', '+1', '+44 12', 'hello', '+999999999999', '']) {
      await expect(http.requestCode(phone, 'register')).rejects.toMatchObject({ code: 'AUTH_INVALID_PHONE' });
    }
    // A well-formed number gets a code whether or not it has an account (the answer does not tell).
    await expect(http.requestCode('+44 1234 567 890', 'login')).resolves.toMatchObject({
      phone: '+441234567890',
    });
  });

  it('rejects wrong, expired, replayed and exhausted codes', async () => {
    const http = new CourierHttp(server.url);
    const phone = nextPhone();
    await http.requestCode(phone, 'register');
    const code = server.sms.lastCode(phone);
    const wrong = code === '000000' ? '111111' : '000000';
    await expect(http.verifyCode(phone, wrong, 'register', 'x')).rejects.toMatchObject({
      code: 'AUTH_CODE_INVALID',
    });
    clock.advance(6 * 60_000);
    await expect(http.verifyCode(phone, code, 'register', 'x')).rejects.toMatchObject({
      code: 'AUTH_CODE_EXPIRED',
    });

    await http.requestCode(phone, 'register');
    const fresh = server.sms.lastCode(phone);
    // Sign-up needs the current privacy policy accepted; the code survives the refusal.
    await expect(http.verifyCode(phone, fresh, 'register', 'x')).rejects.toMatchObject({
      code: 'PRIVACY_POLICY_NOT_ACCEPTED',
    });
    await expect(http.verifyCode(phone, fresh, 'register', 'x', '1999-01-01')).rejects.toMatchObject({
      code: 'PRIVACY_POLICY_UNKNOWN_VERSION',
    });
    const ok = await http.verifyCode(phone, fresh, 'register', 'x', (await http.privacyPolicy()).version);
    expect(ok.created).toBe(true);
    await expect(http.verifyCode(phone, fresh, 'register', 'x', ok.policyVersion)).rejects.toMatchObject({
      code: 'AUTH_CODE_EXPIRED',
    });

    await http.requestCode(phone, 'login');
    const loginCode = server.sms.lastCode(phone);
    const bad = loginCode === '000000' ? '111111' : '000000';
    await expect(http.verifyCode(phone, bad, 'login', 'x')).rejects.toMatchObject({
      code: 'AUTH_CODE_INVALID',
    });
    await expect(http.verifyCode(phone, bad, 'login', 'x')).rejects.toMatchObject({
      code: 'AUTH_CODE_INVALID',
    });
    await expect(http.verifyCode(phone, bad, 'login', 'x')).rejects.toMatchObject({
      code: 'AUTH_CODE_INVALID',
      details: { attemptsLeft: 0 },
    });
    // The right code no longer works either: the attempts are spent.
    await expect(http.verifyCode(phone, loginCode, 'login', 'x')).rejects.toMatchObject({
      code: 'AUTH_CODE_ATTEMPTS_EXCEEDED',
    });
  });

  it('rate-limits codes per number', async () => {
    const http = new CourierHttp(server.url);
    const phone = nextPhone();
    for (let i = 0; i < 3; i++) await http.requestCode(phone, 'register');
    await expect(http.requestCode(phone, 'register')).rejects.toMatchObject({ code: 'AUTH_RATE_LIMITED' });
    clock.advance(61 * 60_000);
    await expect(http.requestCode(phone, 'register')).resolves.toMatchObject({ phone });
  });

  it('refuses bad tokens and malformed bodies on the HTTP API with the envelope', async () => {
    const anonymous = await fetch(`${server.url}/v1/me`, { headers: { authorization: 'Bearer nope' } });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'AUTH_INVALID_TOKEN' } });
    const malformed = await fetch(`${server.url}/v1/auth/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"phone": 12, "intent": "register", "extra": true}',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'REQ_INVALID' } });
    const broken = await fetch(`${server.url}/v1/auth/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"phone": ',
    });
    expect(await broken.json()).toMatchObject({ error: { code: 'REQ_INVALID' } });
    const missing = await fetch(`${server.url}/v1/nothing-here`);
    expect(await missing.json()).toMatchObject({ error: { code: 'REQ_NOT_FOUND' } });
  });
});

describe('rate limits per client address', () => {
  it('stops a flood of code requests from one address', async () => {
    const server = await startTestServer({ config: { auth: { requestsPerIp: 5 } } });
    try {
      const http = new CourierHttp(server.url);
      for (let i = 0; i < 5; i++) await http.requestCode(nextPhone(), 'register');
      await expect(http.requestCode(nextPhone(), 'register')).rejects.toMatchObject({
        code: 'AUTH_RATE_LIMITED',
      });
    } finally {
      await server.close();
    }
  });
});
