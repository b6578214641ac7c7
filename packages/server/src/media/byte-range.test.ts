import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRange } from './byte-range.ts';

describe('Range header parser', () => {
  it('answers every header with the whole resource, one range inside it, or unsatisfiable', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.tuple(fc.option(fc.nat()), fc.option(fc.nat())).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
        ),
        fc.integer({ min: 1, max: 10_000_000 }),
        (header, size) => {
          const r = parseRange(header, size);
          if (r.kind === 'range') {
            expect(r.start).toBeGreaterThanOrEqual(0);
            expect(r.end).toBeLessThan(size);
            expect(r.start).toBeLessThanOrEqual(r.end);
          }
        },
      ),
    );
  });

  it('reads the three forms of RFC 9110', () => {
    expect(parseRange(undefined, 100)).toEqual({ kind: 'all' });
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'range', start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('bytes=50-500', 100)).toEqual({ kind: 'range', start: 50, end: 99 });
    expect(parseRange('bytes=0-1,5-6', 100)).toEqual({ kind: 'all' });
    for (const bad of ['bytes=100-', 'bytes=5-4', 'bytes=-0', 'bytes=-', 'items=0-1', 'bytes=a-b'])
      expect(parseRange(bad, 100), bad).toEqual({ kind: 'unsatisfiable' });
  });
});
