import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CourierError } from '../errors.ts';
import { fromBase64, toBase64 } from '../mls-api.ts';
import {
  ENDPOINT_CLOCK_SKEW_MS,
  type EndpointList,
  endpointLink,
  parseEndpointLink,
  type SignedDocument,
  signEndpointList,
  signEndpointTicket,
  verifyEndpointList,
  verifyEndpointTicket,
} from './endpoint-list.ts';

const current = ed25519.utils.randomSecretKey();
const next = ed25519.utils.randomSecretKey();
const stranger = ed25519.utils.randomSecretKey();
const trustedKeys = [ed25519.getPublicKey(current), ed25519.getPublicKey(next)];
const NOW = Date.UTC(2026, 10, 24);
const DAY = 86_400_000;
const pin = toBase64(new Uint8Array(32).fill(7));

function list(serial = 5, overrides: Partial<EndpointList> = {}): EndpointList {
  return {
    version: 1,
    serial,
    issuedAt: NOW - DAY,
    expiresAt: NOW + 7 * DAY,
    corePins: [pin],
    endpoints: [
      { id: 'core-1', kind: 'core', url: 'https://core.example:8443', weight: 10 },
      { id: 'relay-a', kind: 'relay', url: 'wss://198.18.1.2/s3cret', sni: 'cdn.example', weight: 5 },
    ],
    ...overrides,
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(CourierError);
    return (error as CourierError).code;
  }
}

/** The client's rule: take a new list only if it verifies, else keep the last good one. */
function offer(held: EndpointList, document: unknown): EndpointList {
  try {
    return verifyEndpointList(document, { trustedKeys, now: NOW, heldSerial: held.serial });
  } catch (error) {
    if (!(error instanceof CourierError)) throw error;
    return held;
  }
}

describe('signed endpoint list', () => {
  it('verifies with either pinned key and round-trips the list', () => {
    expect(verifyEndpointList(signEndpointList(list(), current), { trustedKeys, now: NOW })).toEqual(list());
    expect(verifyEndpointList(signEndpointList(list(), next), { trustedKeys, now: NOW })).toEqual(list());
  });

  it('rejects a wrong key, an expired list, a rollback and a future issue date, each with its code', () => {
    expect(
      codeOf(() => verifyEndpointList(signEndpointList(list(), stranger), { trustedKeys, now: NOW })),
    ).toBe('ENDPOINTS_SIGNATURE_INVALID');
    const expired = list(5, { issuedAt: NOW - 30 * DAY, expiresAt: NOW - DAY - 1 });
    expect(
      codeOf(() => verifyEndpointList(signEndpointList(expired, current), { trustedKeys, now: NOW })),
    ).toBe('ENDPOINTS_EXPIRED');
    // Within the day of skew it is still good.
    const justExpired = list(5, { issuedAt: NOW - 30 * DAY, expiresAt: NOW - DAY + 1 });
    expect(verifyEndpointList(signEndpointList(justExpired, current), { trustedKeys, now: NOW }).serial).toBe(
      5,
    );
    expect(
      codeOf(() =>
        verifyEndpointList(signEndpointList(list(4), current), { trustedKeys, now: NOW, heldSerial: 5 }),
      ),
    ).toBe('ENDPOINTS_SERIAL_ROLLBACK');
    expect(
      verifyEndpointList(signEndpointList(list(5), current), { trustedKeys, now: NOW, heldSerial: 5 }).serial,
    ).toBe(5);
    const future = list(5, { issuedAt: NOW + ENDPOINT_CLOCK_SKEW_MS + 1, expiresAt: NOW + 9 * DAY });
    expect(
      codeOf(() => verifyEndpointList(signEndpointList(future, current), { trustedKeys, now: NOW })),
    ).toBe('ENDPOINTS_EXPIRED');
  });

  it('refuses to sign a list with unknown fields, duplicate ids or a bad URL', () => {
    const extra = { ...list(), extra: 1 } as unknown as EndpointList;
    expect(codeOf(() => signEndpointList(extra, current))).toBe('ENDPOINTS_MALFORMED');
    const dup = list(5, { endpoints: [list().endpoints[0]!, list().endpoints[0]!] });
    expect(codeOf(() => signEndpointList(dup, current))).toBe('ENDPOINTS_MALFORMED');
    const badUrl = list(5, { endpoints: [{ id: 'x', kind: 'core', url: 'ftp://a', weight: 1 }] });
    expect(codeOf(() => signEndpointList(badUrl, current))).toBe('ENDPOINTS_MALFORMED');
  });

  it('rejects every bit flip of payload or signature and keeps the last good list (property)', () => {
    const held = list(5);
    const good = signEndpointList(list(6), current);
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 }), (inPayload, at, bit) => {
        const field = inPayload ? 'payload' : 'signature';
        const bytes = fromBase64(good[field])!;
        bytes[at % bytes.length]! ^= 1 << bit;
        const mutated = { ...good, [field]: toBase64(bytes) };
        expect(offer(held, mutated)).toBe(held);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects missing, extra or retyped fields of the signed document and of the signed JSON (property)', () => {
    const held = list(5);
    const fields = ['version', 'serial', 'issuedAt', 'expiresAt', 'corePins', 'endpoints'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.oneof(fc.constant('drop'), fc.constant('extra'), fc.constant('retype')),
        // An undefined value would vanish in JSON.stringify and add no field at all.
        fc.anything().filter((junk) => junk !== undefined),
        (field, how, junk) => {
          const raw: Record<string, unknown> = { ...list(6) };
          if (how === 'drop') delete raw[field];
          else if (how === 'extra') raw[`x${field}`] = junk;
          else raw[field] = typeof raw[field] === 'string' ? 12 : 'text';
          // Signed with the right key, so only the format check can catch it.
          const payload = new TextEncoder().encode(JSON.stringify(raw));
          const message = new Uint8Array([
            ...new TextEncoder().encode('courier-endpoint-list/1\n'),
            ...payload,
          ]);
          const document: SignedDocument = {
            payload: toBase64(payload),
            signature: toBase64(ed25519.sign(message, current)),
          };
          expect(offer(held, document)).toBe(held);
        },
      ),
    );
    fc.assert(
      fc.property(fc.anything(), (junk) => {
        expect(offer(held, junk)).toBe(held);
        const good = signEndpointList(list(6), current);
        expect(offer(held, { ...good, junk })).toBe(held);
        expect(offer(held, { payload: good.payload })).toBe(held);
      }),
    );
  });

  it('rejects a signature swapped from another list, a ticket signature on a list, and rollbacks (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (a, b) => {
        fc.pre(a !== b);
        const held = list(a);
        const other = signEndpointList(list(b + 1000), current);
        const mine = signEndpointList(list(a + 1), current);
        expect(offer(held, { payload: mine.payload, signature: other.signature })).toBe(held);
        const rolledBack = signEndpointList(list(Math.max(0, a - 1 - (b % 5))), current);
        if (a > 0) expect(offer(held, rolledBack)).toBe(held);
        expect(offer(held, mine).serial).toBe(a + 1);
      }),
      { numRuns: 50 },
    );
    // A ticket's signature covers another domain: it never verifies as a list.
    const ticket = signEndpointTicket(
      {
        version: 1,
        endpoint: list().endpoints[1]!,
        issuedAt: NOW - DAY,
        expiresAt: NOW + DAY,
        corePins: [pin],
      },
      current,
    );
    expect(codeOf(() => verifyEndpointList(ticket, { trustedKeys, now: NOW }))).not.toBeUndefined();
  });

  it('carries one signed endpoint in a courier:// link that verifies, and rejects junk links', () => {
    const signed = signEndpointTicket(
      {
        version: 1,
        endpoint: list().endpoints[1]!,
        issuedAt: NOW - DAY,
        expiresAt: NOW + DAY,
        corePins: [pin],
      },
      next,
    );
    const link = endpointLink(signed);
    expect(link).toMatch(/^courier:\/\/endpoint\?t=[A-Za-z0-9_-]+$/);
    expect(verifyEndpointTicket(parseEndpointLink(link), { trustedKeys, now: NOW }).endpoint.id).toBe(
      'relay-a',
    );
    fc.assert(
      fc.property(fc.string(), (junk) => {
        const code = codeOf(() => verifyEndpointTicket(parseEndpointLink(junk), { trustedKeys, now: NOW }));
        expect(code).toMatch(/^ENDPOINTS_/);
      }),
    );
  });
});
