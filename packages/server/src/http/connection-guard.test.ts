import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressBucket } from './client-ip.ts';
import { ConnectionGuard } from './connection-guard.ts';

/** The eight 16-bit groups of an IPv6 address, written out in full. */
const fullGroups = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
const write = (groups: number[]) => groups.map((g) => g.toString(16)).join(':');
/** The same address with its longest run of zero groups written as `::` (if any). */
function compress(groups: number[]): string {
  let best = [-1, 0];
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best[1]! && j - i >= 2) best = [i, j - i];
  }
  if (best[0] === -1) return write(groups);
  const [at, len] = best as [number, number];
  return `${write(groups.slice(0, at))}::${write(groups.slice(at + len))}`;
}

describe('addressBucket', () => {
  it('puts two IPv6 addresses together exactly when their first 64 bits agree, however written', () => {
    fc.assert(
      fc.property(fullGroups, fullGroups, fc.boolean(), (a, b, shareTop) => {
        const c = shareTop ? [...a.slice(0, 4), ...b.slice(4)] : b;
        const same = a.slice(0, 4).every((g, i) => g === c[i]);
        expect(addressBucket(compress(a)) === addressBucket(write(c))).toBe(same);
        expect(addressBucket(write(a))).toBe(addressBucket(compress(a)));
      }),
      { numRuns: 1000 },
    );
  });

  it('counts an IPv4 address (mapped or not) by itself, and never throws on anything', () => {
    expect(addressBucket('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(addressBucket('2001:db8:1:2::1')).toBe(addressBucket('2001:db8:1:2:ffff:1:2:3'));
    expect(addressBucket('2001:db8:1:2::1')).not.toBe(addressBucket('2001:db8:1:3::1'));
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (address) => {
        expect(typeof addressBucket(address)).toBe('string');
      }),
    );
  });
});

describe('ConnectionGuard', () => {
  const limits = { maxConnections: 5, maxConnectionsPerIp: 2, connectsPerIp: 4, connectRateWindowMs: 1000 };

  it('never lets more open than the caps, over any sequence of opens, closes and clock steps', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('open' as const), who: fc.constantFrom('a', 'b', 'c', 'proxy') }),
      fc.record({ kind: fc.constant('close' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        let now = 0;
        const guard = new ConnectionGuard(limits, { now: () => now }, ['10.0.0.1']);
        const addresses: Record<string, string> = {
          a: '2001:db8::1',
          b: '2001:db8::2', // the same /64 as a
          c: '198.51.100.7',
          proxy: '10.0.0.1',
        };
        const open: { who: string; release: () => void }[] = [];
        const connects = new Map<string, number>();
        let window = 0;
        for (const s of steps) {
          if (s.kind === 'tick') {
            now += s.ms;
            if (Math.floor(now / 1000) !== window) {
              window = Math.floor(now / 1000);
              connects.clear();
            }
          } else if (s.kind === 'close') {
            if (open.length > 0) open.splice(s.index % open.length, 1)[0]!.release();
          } else {
            const key = s.who === 'b' ? 'a' : s.who;
            if (key !== 'proxy') connects.set(key, (connects.get(key) ?? 0) + 1);
            const result = guard.admit(addresses[s.who]!);
            const perKey = open.filter((o) => (o.who === 'b' ? 'a' : o.who) === key).length;
            const expected =
              key !== 'proxy' && connects.get(key)! > limits.connectsPerIp
                ? 'CONN_RATE_LIMITED'
                : open.length >= limits.maxConnections
                  ? 'CONN_TOO_MANY'
                  : key !== 'proxy' && perKey >= limits.maxConnectionsPerIp
                    ? 'CONN_TOO_MANY_FROM_ADDRESS'
                    : undefined;
            if (result instanceof CourierError) expect(result.code).toBe(expected);
            else {
              expect(expected).toBeUndefined();
              open.push({ who: s.who, release: result });
            }
          }
          expect(guard.openConnections).toBe(open.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
