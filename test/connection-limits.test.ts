import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  closeCodes,
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ServerFrame,
  TUNNEL_PATH,
} from '@courier/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  nextPhone,
  startTestServer,
  type TestServer,
  type TestUser,
  unsafeTestingClock,
} from './support/harness.ts';
import { makeSelfSignedCert } from './support/netns-scenario.ts';

/**
 * Issue 11, item 4 (the unauthenticated half): connections are capped in number and rate per
 * address, slow or oversized requests are cut, and a stranger's WebSocket cannot make the server
 * buffer large frames before its hello is accepted. Each refusal carries a catalog code.
 */

interface Raw {
  socket: Socket;
  /** Everything the server sent until it closed the connection. */
  answer: Promise<string>;
}

const opened: Socket[] = [];

function rawConnect(url: string): Promise<Raw> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    opened.push(socket);
    let text = '';
    socket.on('data', (d) => {
      text += String(d);
    });
    const answer = new Promise<string>((done) => {
      socket.on('close', () => done(text));
    });
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, answer }));
    socket.once('error', reject);
  });
}

/** Resolves once the server answered `GET /healthz` on this connection (it was admitted). */
function admitted(raw: Raw): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += String(d);
      if (text.includes('\r\n\r\n')) {
        raw.socket.off('data', onData);
        resolve(text.startsWith('HTTP/1.1 200'));
      }
    };
    raw.socket.on('data', onData);
    raw.socket.once('close', () => resolve(text.startsWith('HTTP/1.1 200')));
    raw.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

const codeOf = (answer: string) => {
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  return (JSON.parse(body) as { error: { code: string } }).error.code;
};

afterEach(() => {
  for (const socket of opened.splice(0)) socket.destroy();
});

describe('connection caps per address and in total', () => {
  let server: TestServer;
  const clock = new unsafeTestingClock();
  beforeAll(async () => {
    server = await startTestServer({
      clock,
      config: {
        connections: {
          exemptAddresses: [],
          maxConnectionsPerIp: 3,
          connectsPerIp: 1000,
          connectRateWindowMs: 60_000,
        },
      },
    });
  });
  afterAll(() => server.close());

  it('answers the connection past the per-address cap with CONN_TOO_MANY_FROM_ADDRESS, and admits again after one closes', async () => {
    const kept = await Promise.all([1, 2, 3].map(() => rawConnect(server.url)));
    for (const raw of kept) expect(await admitted(raw)).toBe(true);
    const fourth = await rawConnect(server.url);
    const answer = await fourth.answer;
    expect(answer.startsWith('HTTP/1.1 429')).toBe(true);
    expect(answer.toLowerCase()).toContain('x-content-type-options: nosniff');
    expect(codeOf(answer)).toBe('CONN_TOO_MANY_FROM_ADDRESS');
    // A WebSocket client sees the same typed refusal.
    const ws = new WebSocket(new URL(GATEWAY_PATH, server.url.replace('http', 'ws')));
    const refusal = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += String(d);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('open', () => reject(new Error('the WebSocket was admitted')));
      ws.on('error', () => {});
    });
    ws.terminate();
    expect(refusal.status).toBe(429);
    expect(JSON.parse(refusal.body).error.code).toBe('CONN_TOO_MANY_FROM_ADDRESS');
    // One closes: a new connection is admitted (once the server has seen the close).
    const closed = kept[0]!;
    closed.socket.destroy();
    await closed.answer;
    for (;;) {
      const again = await rawConnect(server.url);
      if (await admitted(again)) break;
      await again.answer;
    }
  });
});

describe('WebSockets through a trusted proxy', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Loopback is the proxy here: its own connections are not limited per address, its clients are.
    server = await startTestServer({
      config: {
        trustedProxies: ['127.0.0.1'],
        connections: { exemptAddresses: [], maxConnectionsPerIp: 2 },
      },
    });
  });
  afterAll(() => server.close());

  const open = (clientAddress: string) =>
    new Promise<{ ws: WebSocket; status: number; code?: string }>((resolve) => {
      const ws = new WebSocket(new URL(GATEWAY_PATH, server.url.replace('http', 'ws')), {
        headers: { 'x-forwarded-for': clientAddress },
      });
      ws.on('open', () => resolve({ ws, status: 101 }));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += String(d);
        });
        res.on('end', () => resolve({ ws, status: res.statusCode ?? 0, code: JSON.parse(body).error.code }));
      });
      ws.on('error', () => {});
    });

  it('counts them by the client address the proxy reports (an IPv6 /64 as one)', async () => {
    const sockets: WebSocket[] = [];
    try {
      for (const address of ['2001:db8:7:7::1', '2001:db8:7:7::2']) {
        const admittedOne = await open(address);
        sockets.push(admittedOne.ws);
        expect(admittedOne.status).toBe(101);
      }
      const third = await open('2001:db8:7:7:abcd::3');
      sockets.push(third.ws);
      expect(third).toMatchObject({ status: 429, code: 'CONN_TOO_MANY_FROM_ADDRESS' });
      const elsewhere = await open('2001:db8:7:8::1');
      sockets.push(elsewhere.ws);
      expect(elsewhere.status).toBe(101);
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });
});

describe('connection rate per address', () => {
  let server: TestServer;
  const clock = new unsafeTestingClock();
  beforeAll(async () => {
    server = await startTestServer({
      clock,
      config: {
        connections: { exemptAddresses: [], connectsPerIp: 4, connectRateWindowMs: 60_000 },
      },
    });
  });
  afterAll(() => server.close());

  it('refuses new connections past the rate with CONN_RATE_LIMITED until the window passes', async () => {
    // Start at the beginning of a window, so the four fit in it.
    clock.advance(60_000 - (clock.now() % 60_000));
    for (let i = 0; i < 4; i++) {
      const raw = await rawConnect(server.url);
      expect(await admitted(raw)).toBe(true);
      raw.socket.destroy();
    }
    const fifth = await rawConnect(server.url);
    const answer = await fifth.answer;
    expect(answer.startsWith('HTTP/1.1 429')).toBe(true);
    expect(codeOf(answer)).toBe('CONN_RATE_LIMITED');
    clock.advance(60_000);
    expect(await admitted(await rawConnect(server.url))).toBe(true);
  });
});

describe('total connection cap', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { connections: { maxConnections: 2 } } });
  });
  afterAll(() => server.close());

  it('answers the connection past the total with CONN_TOO_MANY, even from an exempt address', async () => {
    const kept = await Promise.all([1, 2].map(() => rawConnect(server.url)));
    for (const raw of kept) expect(await admitted(raw)).toBe(true);
    const third = await rawConnect(server.url);
    const answer = await third.answer;
    expect(answer.startsWith('HTTP/1.1 503')).toBe(true);
    expect(codeOf(answer)).toBe('CONN_TOO_MANY');
  });
});

describe('slow and oversized requests', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: {
        connections: { headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 50 },
      },
    });
  });
  afterAll(() => server.close());

  /** Writes `bytes` one at a time, each after the previous was sent and a pause, until the server closes. */
  async function dribble(raw: Raw, bytes: string): Promise<string> {
    let closed = false;
    raw.answer.then(() => {
      closed = true;
    });
    for (const byte of bytes) {
      if (closed) break;
      await new Promise<void>((resolve) => raw.socket.write(byte, () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return raw.answer;
  }

  it('cuts a request head dribbled in byte by byte with REQ_TIMEOUT', async () => {
    const raw = await rawConnect(server.url);
    const answer = await dribble(
      raw,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`,
    );
    expect(answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(codeOf(answer)).toBe('REQ_TIMEOUT');
  });

  it('cuts a body dribbled in byte by byte with REQ_TIMEOUT, and the route never runs', async () => {
    const phone = nextPhone();
    const body = JSON.stringify({ phone, intent: 'register' });
    const raw = await rawConnect(server.url);
    raw.socket.write(
      `POST /v1/auth/code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const answer = await dribble(raw, body);
    expect(answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(codeOf(answer)).toBe('REQ_TIMEOUT');
    expect(server.sms.sent.filter((m) => m.to === phone)).toEqual([]);
  });

  it('answers headers past maxHeaderBytes with REQ_HEADERS_TOO_LARGE', async () => {
    const raw = await rawConnect(server.url);
    raw.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`);
    const answer = await raw.answer;
    expect(answer.startsWith('HTTP/1.1 431')).toBe(true);
    expect(codeOf(answer)).toBe('REQ_HEADERS_TOO_LARGE');
  });
});

describe('bytes before the hello', () => {
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = await startTestServer();
    user = await server.register(nextPhone());
  });
  afterAll(() => server.close());

  interface Outcome {
    frames: ServerFrame[];
    close: { code: number; reason: string };
  }

  function sendBeforeHello(frame: Uint8Array): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(new URL(GATEWAY_PATH, server.url.replace('http', 'ws')), {
        perMessageDeflate: false,
        maxPayload: MAX_FRAME_BYTES * 2,
      });
      const frames: ServerFrame[] = [];
      ws.on('open', () => ws.send(frame));
      ws.on('message', (data) => {
        const frame = decodeServerFrame(new Uint8Array(data as Buffer));
        frames.push(frame);
        if (frame.type === 'ready') ws.close();
      });
      ws.on('close', (code, reason) => resolve({ frames, close: { code, reason: String(reason) } }));
      ws.on('error', reject);
    });
  }

  it('refuses a 4 MiB hello on each of 16 sockets with PROTO_TOO_MUCH_BEFORE_HELLO, never reading it', async () => {
    // A valid hello with the user's own token, padded to just under the frame limit: before the
    // fix the server buffered and read all of it, and answered ready.
    const padded = encodeClientFrame({
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      token: user.token,
      client: 'x'.repeat(MAX_FRAME_BYTES - 1024),
    });
    expect(padded.byteLength).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const outcomes = await Promise.all(Array.from({ length: 16 }, () => sendBeforeHello(padded)));
    for (const { frames, close } of outcomes) {
      expect(frames.map((f) => f.type)).toEqual(['error']);
      expect(frames[0]).toMatchObject({ type: 'error', code: 'PROTO_TOO_MUCH_BEFORE_HELLO' });
      expect(close).toEqual({ code: closeCodes.PROTOCOL_ERROR, reason: 'PROTO_TOO_MUCH_BEFORE_HELLO' });
    }
    // A hello of ordinary size is still answered.
    const ok = await new Promise<ServerFrame>((resolve, reject) => {
      const ws = new WebSocket(new URL(GATEWAY_PATH, server.url.replace('http', 'ws')));
      ws.on('open', () =>
        ws.send(
          encodeClientFrame({
            type: 'hello',
            protocolVersion: PROTOCOL_VERSION,
            token: user.token,
            client: 't',
          }),
        ),
      );
      ws.on('message', (data) => {
        resolve(decodeServerFrame(new Uint8Array(data as Buffer)));
        ws.terminate();
      });
      ws.on('error', reject);
    });
    expect(ok.type).toBe('ready');
  });
});

describe('a relay tunnel that never finishes its TLS handshake', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-tunnel-limit-'));
  const tls = makeSelfSignedCert(dir, 'core');
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: {
        endpoints: {
          tunnel: { certFile: tls.cert, keyFile: tls.key },
          subsetSecretFile: join(dir, 'subset.key'),
        },
        connections: { headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 50 },
      },
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is closed once the handshake time is over', async () => {
    const ws = new WebSocket(new URL(TUNNEL_PATH, server.url.replace('http', 'ws')));
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      // Nothing is sent: no ClientHello ever comes.
      const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
      expect(code).toBeGreaterThan(0);
    } finally {
      ws.terminate();
    }
  });
});
