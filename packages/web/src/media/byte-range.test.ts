import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRange } from './byte-range.ts';

describe('parseRange', () => {
  it('reads bytes=a-b and bytes=a- as [start, end)', () => {
    expect(parseRange('bytes=0-')).toEqual({ start: 0 });
    expect(parseRange('bytes=100-199')).toEqual({ start: 100, end: 200 });
    expect(parseRange(' bytes=5-5 ')).toEqual({ start: 5, end: 6 });
  });

  it('ignores what it does not serve (no header, suffix, several ranges, reversed, junk)', () => {
    for (const header of [
      null,
      undefined,
      '',
      'bytes=-500',
      'bytes=0-1,5-6',
      'bytes=9-3',
      'items=0-1',
      'bytes=a-b',
    ])
      expect(parseRange(header)).toBeUndefined();
  });

  it('never throws, and any answer is a well-formed range', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .tuple(fc.nat(), fc.option(fc.nat(), { nil: undefined }))
            .map(([a, b]) => `bytes=${a}-${b ?? ''}`),
        ),
        (header) => {
          const range = parseRange(header);
          if (range === undefined) return;
          expect(Number.isSafeInteger(range.start) && range.start >= 0).toBe(true);
          if (range.end !== undefined) expect(range.end).toBeGreaterThan(range.start);
        },
      ),
    );
  });

  it('round-trips the header a player builds', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (start, length) => {
        expect(parseRange(`bytes=${start}-${start + length}`)).toEqual({ start, end: start + length + 1 });
      }),
    );
  });
});
