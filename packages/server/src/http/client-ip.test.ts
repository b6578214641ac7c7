import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressBucket,
  clientIpResolver,
  clientSourceResolver,
  ipv6Hextets,
  markRelayed,
  sourceKey,
} from './client-ip.ts';

const request = (remoteAddress: string, xff?: string) =>
  ({
    socket: { remoteAddress },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  }) as unknown as IncomingMessage;

describe('client address', () => {
  it('ignores X-Forwarded-For from an untrusted peer', () => {
    const ip = clientIpResolver(['10.0.0.1']);
    expect(ip(request('203.0.113.9', '198.51.100.7'))).toBe('203.0.113.9');
  });

  it('takes the rightmost untrusted hop behind trusted proxies', () => {
    const ip = clientIpResolver(['10.0.0.1', '10.0.0.2']);
    expect(ip(request('::ffff:10.0.0.1', '1.1.1.1, 198.51.100.7, 10.0.0.2'))).toBe('198.51.100.7');
  });

  it('skips garbage in the header and falls back to the proxy itself', () => {
    const ip = clientIpResolver(['10.0.0.1']);
    expect(ip(request('10.0.0.1', 'not-an-ip, ,'))).toBe('10.0.0.1');
  });

  it('never returns a spoofed address when the peer is not a proxy, whatever the header says', () => {
    const ip = clientIpResolver(['10.0.0.1']);
    fc.assert(
      fc.property(fc.string(), (xff) => {
        expect(ip(request('203.0.113.9', xff))).toBe('203.0.113.9');
      }),
    );
  });
});

/** An IPv6 address as eight hextets, and a few of its textual forms. */
const hextets = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
const fullForm = (h: number[]) => h.map((x) => x.toString(16).padStart(4, '0')).join(':');
/** The canonical (RFC 5952) form, as the WHATWG URL parser writes it. */
const canonicalForm = (h: number[]) => new URL(`http://[${fullForm(h)}]/`).hostname.slice(1, -1);

describe('rate-limit buckets (issue 11 items 3 and 13)', () => {
  it('reads every textual form of an IPv6 address to the same eight hextets', () => {
    fc.assert(
      fc.property(hextets, fc.boolean(), (h, upper) => {
        const expected = h.map((x) => x.toString(16));
        const canonical = canonicalForm(h);
        expect(ipv6Hextets(fullForm(h))).toEqual(expected);
        expect(ipv6Hextets(upper ? canonical.toUpperCase() : canonical)).toEqual(expected);
        expect(ipv6Hextets(`${canonical}%eth0`)).toEqual(expected);
      }),
    );
    expect(ipv6Hextets('::')).toEqual(['0', '0', '0', '0', '0', '0', '0', '0']);
    expect(ipv6Hextets('64:ff9b::192.0.2.33')).toEqual(['64', 'ff9b', '0', '0', '0', '0', 'c000', '221']);
  });

  it('puts every address of an IPv6 /64 in one bucket, and different /64s in different ones', () => {
    fc.assert(
      fc.property(hextets, hextets, (a, b) => {
        const sameNetwork = [...a.slice(0, 4), ...b.slice(4)];
        expect(addressBucket(canonicalForm(sameNetwork))).toBe(addressBucket(fullForm(a)));
        const differs = a.slice(0, 4).some((x, i) => x !== b[i]);
        expect(addressBucket(canonicalForm(b)) === addressBucket(canonicalForm(a))).toBe(!differs);
      }),
    );
    expect(addressBucket('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
  });

  it('keeps IPv4 addresses (plain or mapped) one per bucket', () => {
    expect(addressBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(addressBucket('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(sourceKey({ kind: 'direct', ip: '2001:db8::5' })).toBe('ip:2001:db8:0:0::/64');
  });

  it('names a relayed connection by its relay, ignoring any X-Forwarded-For inside the tunnel', () => {
    const source = clientSourceResolver(['10.0.0.1']);
    const direct = request('10.0.0.1', '198.51.100.7');
    expect(source(direct)).toEqual({ kind: 'direct', ip: '198.51.100.7' });
    const relayed = request('10.0.0.1', '198.51.100.7');
    markRelayed(relayed.socket);
    expect(source(relayed)).toEqual({ kind: 'relay', ip: '10.0.0.1' });
    expect(sourceKey(source(relayed))).toBe('relay:10.0.0.1');
  });
});
