import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  PROTOCOL_VERSION,
  type ServerFrame,
} from '@courier/protocol';
import { createDecoyServer, createRelay } from '@courier/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { makeSelfSignedCert } from './support/netns-scenario.ts';
import { freePort, killHard, type ServerProcess, spawnServer } from './support/server-process.ts';

/** Sends raw bytes and resolves with whatever the server answered once it closes the connection. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += String(d);
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve(answer) : reject(error),
    );
    socket.on('close', () => resolve(answer));
    socket.write(bytes);
    // The server answers or closes; a stuck socket is cut by the test's own timeout.
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

const upgradeRequest = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** Request targets whose URL does not parse (issue 11, item 1), on both upgrade paths. */
const HOSTILE_TARGETS = [
  'http://a:99999/v1/ws',
  'http://a:99999/v1/tunnel',
  '//a:99999/v1/ws',
  'http://[::1/v1/ws',
  'http://%zz/v1/ws',
  'ws://:0:1/v1/tunnel',
];

describe('one hostile request does not end the server (issue 11, item 1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-survives-'));
  const tls = makeSelfSignedCert(dir, 'core');
  let server: ServerProcess | undefined;
  let port = 0;
  beforeAll(async () => {
    // The tunnel path is open too, so both upgrade listeners see the requests.
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        endpoints: {
          tunnel: { certFile: tls.cert, keyFile: tls.key },
          subsetSecretFile: join(dir, 'subset.key'),
        },
      }),
    );
    port = await freePort();
    server = await spawnServer(
      {
        COURIER_CONFIG: configFile,
        COURIER_SQLITE_PATH: join(dir, 'courier.db'),
        COURIER_SMS_OUTBOX: join(dir, 'sms.jsonl'),
        COURIER_TRANSPARENCY_KEY: join(dir, 'transparency.key'),
        COURIER_CERTIFICATION_KEY: join(dir, 'certification.key'),
      },
      port,
    );
  }, 60_000);
  afterAll(async () => {
    if (server) await killHard(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(HOSTILE_TARGETS)('an upgrade to %s is refused and the server still serves', async (target) => {
    await rawExchange(port, upgradeRequest(target));
    expect(server?.child.exitCode, server?.output()).toBeNull();
    expect(server?.child.signalCode).toBeNull();
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    // And the gateway still takes a WebSocket.
    const ws = new WebSocket(`ws://127.0.0.1:${port}${GATEWAY_PATH}`);
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
    } finally {
      ws.terminate();
    }
  });
});

describe('a reset during an upgrade answer does not end a relay or the decoy server', () => {
  /** An upgrade request, then a reset before the answer is read: the answer's write fails. */
  async function upgradeThenReset(port: number, count: number): Promise<void> {
    await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(port, '127.0.0.1', () => {
              socket.write(upgradeRequest('/not-the-secret'), () => socket.resetAndDestroy());
            });
            socket.on('error', () => {});
            socket.on('close', () => resolve());
          }),
      ),
    );
  }

  it('the relay', async () => {
    const relay = createRelay({ upstream: 'http://127.0.0.1:9', path: '/relay-secret-path' });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const url = await relay.listen(0, '127.0.0.1');
      await upgradeThenReset(Number(new URL(url).port), 50);
      expect((await fetch(`${url}/`)).status).toBe(200);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await relay.close();
    }
  });

  it('the decoy server', async () => {
    const decoy = createDecoyServer();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
      const port = (decoy.address() as AddressInfo).port;
      await upgradeThenReset(port, 50);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      decoy.closeAllConnections();
      await new Promise((resolve) => decoy.close(resolve));
    }
  });
});

describe('a handler that throws inside the gateway is logged, not the end of the process', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('a frame whose handling throws (here: the mailbox acknowledgement) leaves the connection serving', async () => {
    const user = await server.register(nextPhone());
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    // Stands for any bug below the frame handler: it runs in a ws 'message' listener, where nothing catches.
    const ackMailbox = server.app.delivery.ackMailbox;
    server.app.delivery.ackMailbox = () => {
      throw new Error('injected failure');
    };
    const ws = new WebSocket(new URL(GATEWAY_PATH, server.url.replace('http', 'ws')));
    try {
      const frames: ServerFrame[] = [];
      let notify = () => {};
      ws.on('message', (data) => {
        frames.push(decodeServerFrame(new Uint8Array(data as Buffer)));
        notify();
      });
      const next = (type: ServerFrame['type']) =>
        new Promise<ServerFrame>((resolve) => {
          notify = () => {
            const found = frames.find((f) => f.type === type);
            if (found) resolve(found);
          };
          notify();
        });
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(
        encodeClientFrame({
          type: 'hello',
          protocolVersion: PROTOCOL_VERSION,
          token: user.token,
          client: 't',
        }),
      );
      await next('ready');
      ws.send(encodeClientFrame({ type: 'mailbox_ack', seq: 0 }));
      ws.send(encodeClientFrame({ type: 'ping', nonce: 7 }));
      expect(await next('pong')).toMatchObject({ type: 'pong', nonce: 7 });
      expect(uncaught).toEqual([]);
    } finally {
      server.app.delivery.ackMailbox = ackMailbox;
      process.off('uncaughtException', onUncaught);
      ws.terminate();
    }
  });
});
