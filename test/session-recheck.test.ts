/**
 * Issue 11 item 13: revocation across nodes must not rest on one at-most-once bus message. Two
 * nodes share a database but not a bus (each has its own in-process bus), so the revocation
 * signal of one never reaches the other: the other finds it by re-checking its connections'
 * sessions, after its bus comes back and periodically.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  closeCodes,
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  PROTOCOL_VERSION,
} from '@courier/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';

/** A raw WebSocket session on a node: resolves once the server said ready. */
async function openSession(url: string, token: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}${GATEWAY_PATH}`);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  let state: 'open' | 'closed' = 'open';
  void closed.then(() => {
    state = 'closed';
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () =>
      ws.send(encodeClientFrame({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token, client: 'test' })),
    );
    ws.on('message', (data) => {
      if (decodeServerFrame(new Uint8Array(data as Buffer)).type === 'ready') resolve();
    });
  });
  return { ws, closed, state: () => state };
}

describe('a device revoked on one node, whose signal the other node never hears', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function twoNodes(sessionRecheckMs?: number) {
    const dir = mkdtempSync(join(tmpdir(), 'courier-recheck-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sqlitePath = join(dir, 'courier.db');
    const config = sessionRecheckMs ? { delivery: { sessionRecheckMs } } : {};
    const a: TestServer = await startTestServer({ sqlitePath, config });
    cleanups.push(() => a.close());
    const b: TestServer = await startTestServer({ sqlitePath, config });
    cleanups.push(() => b.close());
    const user = await a.register(nextPhone());
    const session = await openSession(b.url, user.token);
    cleanups.push(() => session.ws.terminate());
    return { a, b, user, session };
  }

  it('is disconnected when the bus of the other node comes back', async () => {
    const { b, user, session } = await twoNodes();
    await user.http.logout();
    expect(session.state()).toBe('open');
    // What the node runs when its bus reconnects (bus.onResume).
    await b.app.gateway.resume();
    expect(await session.closed).toBe(closeCodes.SESSION_REVOKED);
  });

  it('is disconnected by the periodic re-check, with no bus event at all', async () => {
    const { user, session } = await twoNodes(25);
    await user.http.logout();
    expect(await session.closed).toBe(closeCodes.SESSION_REVOKED);
  });
});
