import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { TUNNEL_PATH } from '@courier/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebSocketStream, WebSocket } from 'ws';
import { nextPhone, startTestServer, type TestServer } from '../support/harness.ts';
import { makeSelfSignedCert } from '../support/netns-scenario.ts';

/**
 * Issue 11 item 13 (rate limits): a client behind one of our relays reaches the core through the
 * blind tunnel, so the core sees the relay's address, never the client's. Such requests must not
 * all fall into the relay address's per-IP bucket; they share a per-relay budget instead (the
 * per-number SMS limits still apply). The test plays the relay: it opens the tunnel on the core
 * itself, as the relay would, and speaks HTTP inside the TLS the core terminates.
 */

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** One POST through a fresh tunnel (one per client, as each client opens its own). */
async function postThroughTunnel(
  coreUrl: string,
  path: string,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<Reply> {
  const outer = new WebSocket(`${coreUrl.replace(/^http/, 'ws')}${TUNNEL_PATH}`, {
    perMessageDeflate: false,
  });
  const stream = createWebSocketStream(outer);
  try {
    const inner = tlsConnect({ socket: stream, servername: 'courier-core', rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      inner.once('secureConnect', () => resolve());
      inner.once('error', reject);
      stream.once('error', reject);
    });
    const text = JSON.stringify(body);
    return await new Promise<Reply>((resolve, reject) => {
      const req = request(
        {
          host: 'courier-core',
          method: 'POST',
          path,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
            ...extraHeaders,
          },
          createConnection: () => inner,
        },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            data += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  } finally {
    outer.terminate();
  }
}

describe('rate limits for clients behind a relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-rate-'));
  const coreTls = makeSelfSignedCert(dir, 'core');
  let core: TestServer;
  beforeAll(async () => {
    core = await startTestServer({
      config: {
        endpoints: {
          tunnel: { certFile: coreTls.cert, keyFile: coreTls.key },
          bundleFile: join(dir, 'bundle.json'),
          subsetSecretFile: join(dir, 'subset.key'),
        },
        auth: { requestsPerIp: 2, requestsPerRelay: 5 },
      },
    });
  });
  afterAll(async () => {
    await core?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the people behind a relay its own budget, not one per-IP bucket, and keeps it apart from direct clients', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const reply = await postThroughTunnel(core.url, '/v1/auth/code', {
        phone: nextPhone(),
        intent: 'register',
      });
      statuses.push(reply.status);
    }
    // More than the per-IP limit (2) of the relay's address gets through: the relay's budget is 5.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // A client connecting directly from the same address has its own bucket.
    const direct = async () =>
      (
        await fetch(`${core.url}/v1/auth/code`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ phone: nextPhone(), intent: 'register' }),
        })
      ).status;
    expect([await direct(), await direct(), await direct()]).toEqual([200, 200, 429]);
  });

  it('does not believe X-Forwarded-For inside the tunnel: the client wrote it', async () => {
    const server = await startTestServer({
      config: {
        trustedProxies: ['127.0.0.1'],
        endpoints: {
          tunnel: { certFile: coreTls.cert, keyFile: coreTls.key },
          bundleFile: join(dir, 'bundle-2.json'),
          subsetSecretFile: join(dir, 'subset-2.key'),
        },
        auth: { requestsPerIp: 1000, requestsPerRelay: 1 },
      },
    });
    try {
      // Each request claims another address; all are the same relay.
      const claim = (address: string) => ({ 'x-forwarded-for': address });
      const first = await postThroughTunnel(
        server.url,
        '/v1/auth/code',
        { phone: nextPhone(), intent: 'register' },
        claim('198.51.100.1'),
      );
      expect(first.status).toBe(200);
      const second = await postThroughTunnel(
        server.url,
        '/v1/auth/code',
        { phone: nextPhone(), intent: 'register' },
        claim('198.51.100.2'),
      );
      expect(second.body).toMatchObject({ error: { code: 'AUTH_RATE_LIMITED' } });
    } finally {
      await server.close();
    }
  });
});
