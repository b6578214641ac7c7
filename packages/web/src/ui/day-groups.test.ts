import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayKey, withDaySeparators } from './day-groups.ts';

describe('day separators', () => {
  it('puts one separator before the first message of each day, in order', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 0, max: 4_000_000_000_000 }), { maxLength: 40 })
          .map((a) => a.sort((x, y) => x - y)),
        (times) => {
          const out = withDaySeparators(times, (t) => t, 4_000_000_000_000);
          const items = out.flatMap((e) => (e.kind === 'item' ? [e.item] : []));
          expect(items).toEqual(times);
          const days = out.filter((e) => e.kind === 'day').length;
          expect(days).toBe(new Set(times.map(dayKey)).size);
          if (times.length > 0) expect(out[0]!.kind).toBe('day');
          for (let i = 1; i < out.length; i++) {
            const entry = out[i]!;
            if (entry.kind !== 'day') continue;
            const next = out[i + 1];
            expect(next?.kind).toBe('item');
          }
        },
      ),
    );
  });

  it('says Today and Yesterday', () => {
    const now = new Date(2026, 11, 3, 12).getTime();
    const out = withDaySeparators([now - 86_400_000, now], (t) => t, now);
    expect(out.filter((e) => e.kind === 'day').map((e) => (e.kind === 'day' ? e.label : ''))).toEqual([
      'Yesterday',
      'Today',
    ]);
  });
});
