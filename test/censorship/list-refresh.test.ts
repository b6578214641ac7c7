import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { type Endpoint, type EndpointList, signEndpointList } from '@courier/protocol';
import { EndpointBook, EndpointFailover } from '@courier/sdk';
import { createRelay, type Relay, signBundle } from '@courier/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestServer,
  text,
  untext,
} from '../support/harness.ts';
import { CensorProxy } from './censor-proxy.ts';

// In-process censor proxies (see netns.test.ts for the namespace harness).
const key = ed25519.utils.randomSecretKey();
const trustedKeys = [ed25519.getPublicKey(key)];

describe('list refresh through the one live relay (in-process censor proxies)', () => {
  let core: TestServer;
  const relays: Relay[] = [];
  const proxies = new Map<string, CensorProxy>();
  const endpoints: Endpoint[] = [];
  const now = Date.now();
  const list = (serial: number, ids: string[]): EndpointList => ({
    version: 1,
    serial,
    issuedAt: now - 1000,
    expiresAt: now + 86_400_000,
    corePins: [],
    endpoints: endpoints.filter((e) => ids.includes(e.id)),
  });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'list-refresh-'));
    core = await startTestServer({
      config: {
        endpoints: { bundleFile: join(dir, 'bundle.json'), subsetSecretFile: join(dir, 'subset.key') },
      },
    });
    const coreProxy = new CensorProxy({ host: '127.0.0.1', port: Number(new URL(core.url).port) });
    endpoints.push({
      id: 'core',
      kind: 'core',
      url: `http://127.0.0.1:${await coreProxy.start()}`,
      weight: 10,
    });
    proxies.set('core', coreProxy);
    for (let i = 0; i < 4; i++) {
      const relay = createRelay({ upstream: core.url, path: `/refresh-secret-${i}` });
      relays.push(relay);
      const proxy = new CensorProxy({
        host: '127.0.0.1',
        port: Number(new URL(await relay.listen(0, '127.0.0.1')).port),
      });
      endpoints.push({
        id: `relay-${i}`,
        kind: 'relay',
        url: `http://127.0.0.1:${await proxy.start()}/refresh-secret-${i}`,
        weight: 5,
      });
      proxies.set(`relay-${i}`, proxy);
    }
    // The core publishes serial 2: the core, relay-0 and relay-1 in the public list; relays 2-3 only per account.
    // A relay passes the public list on (it never sees a session token), so that is what a refresh through it brings.
    writeFileSync(
      join(dir, 'bundle.json'),
      JSON.stringify(
        signBundle(
          list(
            2,
            endpoints.map((e) => e.id),
          ),
          key,
          ['relay-0', 'relay-1'],
        ),
      ),
    );
  });
  afterAll(async () => {
    for (const proxy of proxies.values()) await proxy.close();
    for (const relay of relays) await relay.close();
    await core.close();
  });

  it('refreshes the list through relay-0 while the core is blocked, then reconnects through a relay it did not know', async () => {
    const alice = await core.register(nextPhone());
    const bob = await core.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    // Alice starts with serial 1: the core and relay-0 only.
    const book = new EndpointBook({
      trustedKeys,
      bootstrap: signEndpointList(list(1, ['core', 'relay-0']), key),
    });
    const failover = new EndpointFailover({
      book,
      lastGood: 'core',
      timings: { staggerMs: 100, attemptTimeoutMs: 1000, failCooldownMs: 60_000 },
    });
    const a = await connectDevice(core.url, alice, {
      failover,
      pingIntervalMs: 250,
      reconnectBaseMs: 50,
      reconnectCapMs: 500,
    });
    const b = await connectDevice(core.url, bob);
    expect(a.connection.endpointInUse?.id).toBe('core');
    expect(book.endpoints().map((e) => e.id)).toEqual(['core', 'relay-0']);

    proxies.get('core')!.set('drop');
    const refreshed = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (book.serial === 2) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
    await a.connection.send(chat.groupId, text('while the core is blocked'));
    expect(a.connection.endpointInUse?.id).toBe('relay-0');
    await refreshed;
    // Serial 2 came through relay-0, the only way in left.
    expect(book.endpoints().map((e) => e.id)).toEqual(['core', 'relay-0', 'relay-1']);

    proxies.get('relay-0')!.set('reset');
    await a.connection.send(chat.groupId, text('through a relay from the refreshed list'));
    expect(a.connection.endpointInUse?.id).toBe('relay-1');
    const got = await b.waitForMessages(2);
    expect(got.map((e) => untext((e as { payload: Uint8Array }).payload))).toEqual([
      'while the core is blocked',
      'through a relay from the refreshed list',
    ]);
    await a.connection.stop();
    await b.connection.stop();
  });
});
