import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createDecoyServer, createRelay, type Relay } from '@courier/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { makeSelfSignedCert } from '../support/netns-scenario.ts';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestServer,
  text,
  untext,
} from '../support/harness.ts';

const SECRET = '/k7Qm2xVbT9pLw4Zr';
const FIXED_NOW = Date.UTC(2026, 10, 24, 10, 0, 0);

/** Sends raw bytes and reads one HTTP answer (head + Content-Length body), or everything until close. */
function probe(
  port: number,
  bytes: string | Buffer,
  useTls = false,
): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = useTls
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : connect({ host: '127.0.0.1', port });
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ answer: data.toString('latin1'), closed });
    };
    socket.once(useTls ? 'secureConnect' : 'connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const isHead = String(bytes).startsWith('HEAD ');
      const length = isHead ? 0 : Number(/\r\nContent-Length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      // Answers that say "Connection: close" are read to the close, so that the close is compared too.
      if (!/\r\nConnection: close/i.test(text.slice(0, end)) && data.length >= end + 4 + length)
        finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (error) => (done ? undefined : reject(error)));
  });
}

const request = (method: string, path: string, extra = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: relay.example\r\nUser-Agent: prober/1.0\r\n${extra}\r\n`;
const upgrade = (method: string, path: string) =>
  request(
    method,
    path,
    'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
  );

const PROBES: [string, string | Buffer][] = [
  ['GET /', request('GET', '/')],
  ['HEAD /', request('HEAD', '/')],
  ['POST /', request('POST', '/', 'Content-Length: 3\r\n') + 'a=1'],
  ['GET /admin', request('GET', '/admin')],
  ['GET /v1/ws (the core gateway path)', request('GET', '/v1/ws')],
  ['GET secret path without upgrade', request('GET', SECRET)],
  ['POST secret path', request('POST', SECRET, 'Content-Length: 0\r\n')],
  ['GET secret/tunnel without upgrade', request('GET', `${SECRET}/tunnel`)],
  ['HEAD secret/endpoints', request('HEAD', `${SECRET}/endpoints`)],
  ['GET secret path + 1 char', request('GET', `${SECRET}x`)],
  ['websocket upgrade on a wrong path', upgrade('GET', '/chat')],
  ['websocket upgrade on a near-secret path', upgrade('GET', SECRET.slice(0, -1))],
  ['websocket upgrade with POST on the secret path', upgrade('POST', SECRET)],
  ['HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n'],
  ['garbage', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x02, 0x0d, 0x0a, 0x0d, 0x0a])],
  ['a TLS ClientHello on the plain port', Buffer.from('160301020001000200', 'hex')],
  ['SSH banner', 'SSH-2.0-OpenSSH_9.2\r\n'],
  ['headers over the limit', request('GET', '/', `X-Big: ${'a'.repeat(9000)}\r\n`)],
  ['lowercase method', 'get / HTTP/1.1\r\nHost: x\r\n\r\n'],
];

describe('relay', () => {
  let core: TestServer;
  let relay: Relay;
  let relayPort: number;
  let decoyPort: number;
  const decoy = createDecoyServer(() => FIXED_NOW);

  beforeAll(async () => {
    core = await startTestServer();
    // The clock stands still here, so the per-source window never ends: allow plenty.
    relay = createRelay({
      upstream: core.url,
      path: SECRET,
      now: () => FIXED_NOW,
      limits: { connectsPerSourcePerSecond: 1000 },
    });
    relayPort = Number(new URL(await relay.listen(0, '127.0.0.1')).port);
    await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
    decoyPort = (decoy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await relay.close();
    await new Promise((resolve) => decoy.close(resolve));
    await core.close();
  });

  it('answers every non-secret probe byte for byte like the decoy web server', async () => {
    for (const [name, bytes] of PROBES) {
      const fromRelay = await probe(relayPort, bytes);
      const fromDecoy = await probe(decoyPort, bytes);
      expect({ name, ...fromRelay }).toEqual({ name, ...fromDecoy });
      expect(fromRelay.answer).toMatch(/^HTTP\/1\.1 (200|400|404|405) /);
      expect(fromRelay.answer).toContain('Server: nginx\r\n');
      expect(fromRelay.answer).not.toMatch(/courier|fastify|express|x-powered/i);
    }
    // Garbage closes the connection, as a stock server does.
    expect((await probe(relayPort, 'SSH-2.0-OpenSSH_9.2\r\n')).closed).toBe(true);
  });

  it('pipes a WebSocket upgrade on the secret path to the core: two clients chat through it', async () => {
    const alice = await core.register(nextPhone());
    const bob = await core.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const viaRelay = () =>
      new WebSocket(`ws://127.0.0.1:${relayPort}${SECRET}`, { perMessageDeflate: false });
    const before = { ...relay.counters };
    const a = await connectDevice(core.url, alice, { createSocket: viaRelay as never });
    const b = await connectDevice(core.url, bob, { createSocket: viaRelay as never });
    for (let i = 0; i < 50; i++) await a.connection.send(chat.groupId, text(`hello ${i}`));
    const got = await b.waitForMessages(50);
    expect(got.map((e) => (e.kind === 'message' ? untext(e.payload) : ''))).toEqual(
      Array.from({ length: 50 }, (_, i) => `hello ${i}`),
    );
    expect(relay.counters.upgrades - before.upgrades).toBe(2);
    expect(relay.counters.bytesUp).toBeGreaterThan(before.bytesUp);
    expect(relay.counters.bytesDown).toBeGreaterThan(before.bytesDown);
    await a.connection.stop();
    await b.connection.stop();
  });

  it('answers the secret path with a 502 page when the core is unreachable', async () => {
    const dead = createRelay({ upstream: 'http://127.0.0.1:1', path: SECRET, now: () => FIXED_NOW });
    const port = Number(new URL(await dead.listen(0, '127.0.0.1')).port);
    const answer = await probe(port, upgrade('GET', SECRET));
    expect(answer.answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\nServer: nginx\r\n/);
    expect(dead.counters.upstreamFailures).toBe(1);
    await dead.close();
  });

  it('closes connections over the per-source rate at once and counts them', async () => {
    const limited = createRelay({
      upstream: core.url,
      path: SECRET,
      now: () => FIXED_NOW,
      limits: { connectsPerSourcePerSecond: 3 },
    });
    const port = Number(new URL(await limited.listen(0, '127.0.0.1')).port);
    const answers = [];
    for (let i = 0; i < 5; i++)
      answers.push(await probe(port, request('GET', '/')).catch(() => ({ answer: '', closed: true })));
    expect(answers.slice(0, 3).every((a) => a.answer.startsWith('HTTP/1.1 200'))).toBe(true);
    expect(answers.slice(3).every((a) => a.answer === '')).toBe(true);
    expect(limited.counters.refusedRate).toBe(2);
    await limited.close();
  });

  it('holds no more than its connection limit: a connection beyond it is closed unanswered', async () => {
    const small = createRelay({ upstream: core.url, path: SECRET, limits: { maxConnections: 2 } });
    const port = Number(new URL(await small.listen(0, '127.0.0.1')).port);
    const idle = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
          }),
      ),
    );
    // Let the relay accept both before the third arrives.
    await probe(port, request('GET', '/')).catch(() => undefined);
    const third = await probe(port, request('GET', '/')).catch(() => ({ answer: '', closed: true }));
    expect(third).toEqual({ answer: '', closed: true });
    for (const socket of idle) socket.destroy();
    await small.close();
  });

  it('speaks HTTPS with its own certificate and still looks like the decoy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-cert-'));
    const { cert, key } = makeSelfSignedCert(dir, 'relay');
    const secure = createRelay({
      upstream: core.url,
      path: SECRET,
      now: () => FIXED_NOW,
      tls: { cert: readFileSync(cert), key: readFileSync(key) },
    });
    const port = Number(new URL(await secure.listen(0, '127.0.0.1')).port);
    for (const [, bytes] of PROBES.slice(0, 6)) {
      expect(await probe(port, bytes, true)).toEqual(await probe(decoyPort, bytes));
    }
    await secure.close();
  });
});
