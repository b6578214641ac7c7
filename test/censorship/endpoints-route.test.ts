import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { type EndpointList, verifyEndpointList, verifyEndpointTicket } from '@courier/protocol';
import { createRelay, type EndpointsReply, signBundle } from '@courier/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from '../support/harness.ts';

const key = ed25519.utils.randomSecretKey();
const trustedKeys = [ed25519.getPublicKey(key)];
const now = Date.now();

function fullList(): EndpointList {
  return {
    version: 1,
    serial: 1,
    issuedAt: now - 1000,
    expiresAt: now + 86_400_000,
    corePins: [],
    endpoints: [
      { id: 'core', kind: 'core', url: 'http://198.18.0.10:8080', weight: 10 },
      ...Array.from({ length: 12 }, (_, i) => ({
        id: `relay-${i}`,
        kind: 'relay' as const,
        url: `http://198.18.1.${i + 1}/secretpath${i}`,
        weight: 5,
      })),
    ],
  };
}

describe('GET /v1/endpoints', () => {
  let core: TestServer;
  let bare: TestServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'endpoints-route-'));
    writeFileSync(
      join(dir, 'bundle.json'),
      JSON.stringify(signBundle(fullList(), key, ['relay-0', 'relay-1'])),
    );
    core = await startTestServer({
      config: {
        endpoints: {
          bundleFile: join(dir, 'bundle.json'),
          subsetSecretFile: join(dir, 'subset.key'),
          relaysPerAccount: 3,
        },
      },
    });
    bare = await startTestServer();
  });
  afterAll(async () => {
    await core.close();
    await bare.close();
  });

  it('serves the signed bootstrap list to anyone and a stable three-relay subset to each account', async () => {
    const anonymous = (await (await fetch(`${core.url}/v1/endpoints`)).json()) as EndpointsReply;
    const list = verifyEndpointList(anonymous.list, { trustedKeys, now });
    expect(list.endpoints.map((e) => e.id)).toEqual(['core', 'relay-0', 'relay-1']);
    expect(anonymous.relays).toEqual([]);

    const subsets = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const user = await core.register(nextPhone());
      const get = async () =>
        (await (
          await fetch(`${core.url}/v1/endpoints`, { headers: { authorization: `Bearer ${user.token}` } })
        ).json()) as EndpointsReply;
      const first = await get();
      const ids = first.relays.map((t) => verifyEndpointTicket(t, { trustedKeys, now }).endpoint.id);
      expect(ids).toHaveLength(3);
      expect(new Set(ids).size).toBe(3);
      expect((await get()).relays).toEqual(first.relays);
      subsets.add(ids.sort().join());
    }
    // Accounts do not all get the same relays, so one account cannot learn them all.
    expect(subsets.size).toBeGreaterThan(1);

    const bad = await fetch(`${core.url}/v1/endpoints`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
  });

  it('is ENDPOINTS_NOT_CONFIGURED on a core without a bundle', async () => {
    const reply = await fetch(`${bare.url}/v1/endpoints`);
    expect(reply.status).toBe(404);
    expect(((await reply.json()) as { error: { code: string } }).error.code).toBe('ENDPOINTS_NOT_CONFIGURED');
  });

  it('is served by a relay too, on its secret path, unchanged', async () => {
    const relay = createRelay({ upstream: core.url, path: '/relaysecret1' });
    const url = await relay.listen(0, '127.0.0.1');
    const viaRelay = (await (await fetch(`${url}/relaysecret1/endpoints`)).json()) as EndpointsReply;
    expect(verifyEndpointList(viaRelay.list, { trustedKeys, now }).serial).toBe(1);
    expect(relay.counters.endpointLists).toBe(1);
    await relay.close();
  });
});
