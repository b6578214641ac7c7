import { ed25519 } from '@noble/curves/ed25519.js';
import { type Endpoint, signEndpointList } from '@courier/protocol';
import { directTransport, EndpointBook, EndpointFailover } from '@courier/sdk';
import { createRelay, type Relay } from '@courier/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestDevice,
  type TestServer,
  text,
  untext,
} from '../support/harness.ts';
import { CensorProxy } from './censor-proxy.ts';

// Network namespaces are exercised in netns.test.ts; this file always runs against in-process
// censor proxies (one TCP forwarder in front of each address), whatever the machine allows.
const key = ed25519.utils.randomSecretKey();
const TOTAL = 3000;

interface Way {
  endpoint: Endpoint;
  proxy: CensorProxy;
}

describe('failover past a censor (in-process censor proxies)', () => {
  let core: TestServer;
  const relays: Relay[] = [];
  const ways: Way[] = [];

  beforeAll(async () => {
    core = await startTestServer();
    const corePort = Number(new URL(core.url).port);
    const coreProxy = new CensorProxy({ host: '127.0.0.1', port: corePort });
    ways.push({
      endpoint: { id: 'core', kind: 'core', url: `http://127.0.0.1:${await coreProxy.start()}`, weight: 10 },
      proxy: coreProxy,
    });
    for (let i = 0; i < 4; i++) {
      const relay = createRelay({ upstream: core.url, path: `/relay-secret-${i}` });
      relays.push(relay);
      const port = Number(new URL(await relay.listen(0, '127.0.0.1')).port);
      const proxy = new CensorProxy({ host: '127.0.0.1', port });
      ways.push({
        endpoint: {
          id: `relay-${i}`,
          kind: 'relay',
          url: `http://127.0.0.1:${await proxy.start()}/relay-secret-${i}`,
          weight: 5,
        },
        proxy,
      });
    }
  });
  afterAll(async () => {
    for (const way of ways) await way.proxy.close();
    for (const relay of relays) await relay.close();
    await core.close();
  });

  function book(): EndpointBook {
    const now = Date.now();
    const list = signEndpointList(
      {
        version: 1,
        serial: 1,
        issuedAt: now - 1000,
        expiresAt: now + 86_400_000,
        corePins: [],
        endpoints: ways.map((w) => w.endpoint),
      },
      key,
    );
    return new EndpointBook({ trustedKeys: [ed25519.getPublicKey(key)], bootstrap: list });
  }

  async function device(
    token: string,
  ): Promise<{ device: TestDevice; switches: { id: string; at: number }[] }> {
    const switches: { id: string; at: number }[] = [];
    const failover = new EndpointFailover({
      book: book(),
      timings: { staggerMs: 100, attemptTimeoutMs: 1500, failCooldownMs: 30_000 },
    });
    const device = await connectDevice(
      core.url,
      { token },
      {
        failover,
        pingIntervalMs: 250,
        reconnectBaseMs: 50,
        reconnectCapMs: 1000,
      },
    );
    device.connection.on('endpoint', (e) => switches.push({ id: e.id, at: Date.now() }));
    return { device, switches };
  }

  it(`keeps ${TOTAL} messages flowing while the censor drops and resets the addresses in use and loses packets on another: 0 lost, 0 duplicated`, async () => {
    const alice = await core.register(nextPhone());
    const bob = await core.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    const a = await device(alice.token);
    const b = await device(bob.token);
    const inUse = (d: typeof a) => d.switches.at(-1)?.id;
    // connectDevice awaited ready before the listener was attached: read the first endpoint from the failover.
    const current = (d: typeof a) =>
      inUse(d) ?? (d.device.connection as unknown as { endpoint?: Endpoint }).endpoint?.id;

    // Random loss (5 % of chunks stall 200 ms, in order) on an endpoint not in use, which the
    // clients may move to when theirs is blocked.
    const lossy = ways.find((w) => w.endpoint.id !== current(a) && w.endpoint.id !== current(b));
    lossy?.proxy.set('loss');
    const blocked: { id: string; how: string; at: number }[] = [];
    const block = (id: string | undefined, how: 'drop' | 'reset') => {
      const way = ways.find((w) => w.endpoint.id === id);
      if (!way) throw new Error(`no endpoint in use (${id})`);
      way.proxy.set(how);
      blocked.push({ id: way.endpoint.id, how, at: Date.now() });
    };
    for (let i = 0; i < TOTAL; i += 50) {
      if (i === 600) block(current(a), 'drop');
      if (i === 1400) block(current(b), 'reset');
      if (i === 2200) block(current(a), 'reset');
      await Promise.all(
        Array.from({ length: 50 }, (_, k) => a.device.connection.send(chat.groupId, text(`m${i + k}`))),
      );
    }
    const got = await b.device.waitForMessages(TOTAL, 60_000);
    const bodies = got.map((e) => (e.kind === 'message' ? untext(e.payload) : ''));
    const expected = Array.from({ length: TOTAL }, (_, i) => `m${i}`);
    expect(new Set(bodies).size).toBe(bodies.length); // none twice
    expect([...bodies].sort()).toEqual([...expected].sort()); // none lost
    expect(blocked).toHaveLength(3);
    // Each block was followed by a switch to another, unblocked endpoint.
    for (const event of blocked) {
      const victim = event.how === 'reset' && event === blocked[1] ? b : a;
      const next = victim.switches.find((s) => s.at >= event.at);
      expect(next, `a switch after ${event.how} of ${event.id}`).toBeDefined();
      expect(next!.id).not.toBe(event.id);
      console.log(
        `censorship(in-process proxy): ${event.how} of ${event.id} → back through ${next!.id} after ${((next!.at - event.at) / 1000).toFixed(2)} s`,
      );
    }
    await a.device.connection.stop();
    await b.device.connection.stop();
  });

  it('waits out a 60 s blackout of every address without a hot loop, then delivers the outbox: 0 lost, 0 duplicated', async () => {
    for (const way of ways) way.proxy.set('pass');
    const alice = await core.register(nextPhone());
    const bob = await core.register(nextPhone());
    const chat = await alice.http.openDirect(bob.accountId);
    let attempts = 0;
    const failover = new EndpointFailover({
      book: book(),
      timings: { staggerMs: 100, attemptTimeoutMs: 1000, failCooldownMs: 30_000 },
      transport: (endpoint) => {
        attempts += 1;
        return directTransport(endpoint);
      },
    });
    const a = await connectDevice(core.url, alice, {
      failover,
      pingIntervalMs: 250,
      reconnectBaseMs: 100,
      reconnectCapMs: 4000,
    });
    const b = await connectDevice(core.url, bob);
    await a.connection.send(chat.groupId, text('before'));

    for (const way of ways) way.proxy.set('drop');
    const cpuBefore = process.cpuUsage();
    const startedAt = Date.now();
    attempts = 0;
    const during = Array.from({ length: 100 }, (_, i) =>
      a.connection.send(chat.groupId, text(`blackout ${i}`)),
    );
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    expect(a.store.outbox()).toHaveLength(100);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuShare = (cpu.user + cpu.system) / 1000 / (Date.now() - startedAt);
    const attemptsDuringBlackout = attempts;
    for (const way of ways) way.proxy.set('pass');
    await Promise.all(during);
    const got = await b.waitForMessages(101, 30_000);
    const bodies = got.map((e) => untext((e as { payload: Uint8Array }).payload));
    expect(bodies).toEqual(['before', ...Array.from({ length: 100 }, (_, i) => `blackout ${i}`)]);
    expect(a.store.outbox()).toHaveLength(0);
    console.log(
      `censorship(in-process proxy): 60 s blackout: ${attemptsDuringBlackout} connection attempts, process CPU ${(cpuShare * 100).toFixed(1)} %, then 100 queued messages delivered, 0 lost, 0 duplicated`,
    );
    // Backoff with a 4 s cap over 5 endpoints: a few rounds a minute, not a loop (a hot loop makes thousands).
    expect(attemptsDuringBlackout).toBeLessThan(200);
    await a.connection.stop();
    await b.connection.stop();
  }, 120_000);
});
