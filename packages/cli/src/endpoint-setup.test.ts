import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { signEndpointList, toBase64 } from '@courier/protocol';
import { describe, expect, it } from 'vitest';
import { describeEndpoint, endpointFailoverFromEnv } from './endpoint-setup.ts';

const key = ed25519.utils.randomSecretKey();
const now = Date.now();
const signed = signEndpointList(
  {
    version: 1,
    serial: 7,
    issuedAt: now - 1000,
    expiresAt: now + 86_400_000,
    corePins: [],
    endpoints: [
      { id: 'core', kind: 'core', url: 'https://198.18.1.2:8443', weight: 10 },
      { id: 'relay-a', kind: 'relay', url: 'https://198.18.1.3/secret-a', weight: 5 },
    ],
  },
  key,
);

describe('CLI endpoint failover setup', () => {
  it('is off without pinned keys, and refuses a malformed key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-endpoints-'));
    expect(endpointFailoverFromEnv(dir, {})).toBeUndefined();
    expect(() => endpointFailoverFromEnv(dir, { COURIER_ENDPOINT_KEYS: 'AAAA' })).toThrow(
      expect.objectContaining({ code: 'ENDPOINTS_MALFORMED' }),
    );
    // Pinned keys but nothing signed to start from is an error, not a silent direct connection.
    expect(() =>
      endpointFailoverFromEnv(dir, { COURIER_ENDPOINT_KEYS: toBase64(ed25519.getPublicKey(key)) }),
    ).toThrow(expect.objectContaining({ code: 'ENDPOINTS_MALFORMED' }));
  });

  it('starts from a signed list, remembers the list and the endpoint that worked in the profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-endpoints-'));
    writeFileSync(join(dir, 'list.json'), JSON.stringify({ list: signed, tickets: {} }));
    const env = {
      COURIER_ENDPOINT_KEYS: `${toBase64(ed25519.getPublicKey(key))},${toBase64(ed25519.getPublicKey(ed25519.utils.randomSecretKey()))}`,
    };
    const first = endpointFailoverFromEnv(dir, { ...env, COURIER_ENDPOINT_LIST: join(dir, 'list.json') })!;
    expect(first.book.endpoints().map((e) => e.id)).toEqual(['core', 'relay-a']);
    first.remember({ id: 'relay-a', kind: 'relay', url: 'https://198.18.1.3/secret-a', switched: false });
    expect(JSON.parse(readFileSync(join(dir, 'endpoints.json'), 'utf8'))).toMatchObject({
      list: signed,
      lastGood: 'relay-a',
    });
    // Next run: no list in the environment, the profile's copy is verified and used, last good first.
    const second = endpointFailoverFromEnv(dir, env)!;
    expect(second.book.serial).toBe(7);
    expect(second.tracker.lastGood).toBe('relay-a');
  });

  it('says where it is connected and when it switched', () => {
    expect(
      describeEndpoint({ id: 'relay-a', kind: 'relay', url: 'https://198.18.1.3/secret-a', switched: false }),
    ).toBe('(connected through relay relay-a (198.18.1.3))');
    expect(
      describeEndpoint({ id: 'core', kind: 'core', url: 'https://198.18.1.2:8443', switched: true }),
    ).toBe('(switched to core core (198.18.1.2:8443))');
  });
});
