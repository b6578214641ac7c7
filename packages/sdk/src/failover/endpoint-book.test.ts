import { ed25519 } from '@noble/curves/ed25519.js';
import { type EndpointList, endpointLink, signEndpointList, signEndpointTicket } from '@courier/protocol';
import { describe, expect, it } from 'vitest';
import { EndpointBook, type EndpointBookState } from './endpoint-book.ts';

const key = ed25519.utils.randomSecretKey();
const other = ed25519.utils.randomSecretKey();
const trustedKeys = [ed25519.getPublicKey(key)];
const NOW = Date.UTC(2026, 10, 24);
const list = (serial: number, ids: string[]): EndpointList => ({
  version: 1,
  serial,
  issuedAt: NOW - 1000,
  expiresAt: NOW + 86_400_000,
  corePins: [],
  endpoints: ids.map((id) => ({
    id,
    kind: id === 'core' ? 'core' : 'relay',
    url: `https://198.18.1.9/${id}-path`,
    weight: 1,
  })),
});
const ticket = (id: string, signer = key) =>
  signEndpointTicket(
    {
      version: 1,
      endpoint: { id, kind: 'relay', url: `https://198.18.1.7/${id}-path`, weight: 2 },
      issuedAt: NOW - 1000,
      expiresAt: NOW + 3_600_000,
      corePins: [],
    },
    signer,
  );

describe('EndpointBook', () => {
  it('keeps the last good list against rollback, a foreign key and junk, and takes a newer one', () => {
    const saved: EndpointBookState[] = [];
    const book = new EndpointBook({
      trustedKeys,
      bootstrap: signEndpointList(list(3, ['core']), key),
      now: () => NOW,
      onChange: (s) => saved.push(s),
    });
    expect(book.offerList(signEndpointList(list(2, ['core', 'r1']), key))).toMatchObject({
      kind: 'rejected',
      error: { code: 'ENDPOINTS_SERIAL_ROLLBACK' },
    });
    expect(book.offerList(signEndpointList(list(9, ['core', 'r1']), other))).toMatchObject({
      kind: 'rejected',
      error: { code: 'ENDPOINTS_SIGNATURE_INVALID' },
    });
    expect(book.offerList('junk')).toMatchObject({
      kind: 'rejected',
      error: { code: 'ENDPOINTS_MALFORMED' },
    });
    expect(book.endpoints().map((e) => e.id)).toEqual(['core']);
    expect(saved).toHaveLength(0);
    expect(book.offerList(signEndpointList(list(4, ['core', 'r1']), key))).toEqual({
      kind: 'accepted',
      serial: 4,
    });
    expect(book.endpoints().map((e) => e.id)).toEqual(['core', 'r1']);
    expect(saved).toHaveLength(1);
  });

  it('adds the account relays and shared links that verify, and restores them all from saved state', () => {
    let state: EndpointBookState = {};
    const book = new EndpointBook({
      trustedKeys,
      bootstrap: signEndpointList(list(1, ['core']), key),
      now: () => NOW,
      onChange: (s) => {
        state = s;
      },
    });
    expect(book.setRelays([ticket('r2'), ticket('r3', other), { payload: 'x', signature: 'y' }])).toBe(1);
    expect(book.addLink(endpointLink(ticket('shared')))).toMatchObject({ id: 'shared' });
    expect(() => book.addLink(endpointLink(ticket('evil', other)))).toThrow(
      expect.objectContaining({ code: 'ENDPOINTS_SIGNATURE_INVALID' }),
    );
    expect(() => book.addLink('https://example.org')).toThrow(
      expect.objectContaining({ code: 'ENDPOINTS_LINK_INVALID' }),
    );
    expect(book.endpoints().map((e) => e.id)).toEqual(['core', 'r2', 'shared']);
    const restored = new EndpointBook({
      trustedKeys,
      saved: JSON.parse(JSON.stringify(state)),
      now: () => NOW,
    });
    expect(restored.endpoints().map((e) => e.id)).toEqual(['core', 'r2', 'shared']);
    // A day after the tickets expire (skew included), they are no longer offered; the list still is.
    const later = new EndpointBook({
      trustedKeys,
      saved: state,
      now: () => NOW + 3_600_000 + 86_400_000 + 1,
    });
    expect(later.endpoints().map((e) => e.id)).toEqual(['core']);
  });
});
