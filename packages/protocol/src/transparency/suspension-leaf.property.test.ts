import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeLeaf, parseLeaf, type PublicLeaf, SUSPENSION_LEAF_REASONS } from './log-leaf.ts';
import { computeReport, periodBounds } from './report.ts';

const leaf = fc.record({
  v: fc.constant(1 as const),
  type: fc.constant('suspension' as const),
  at: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) }),
  action: fc.constantFrom('suspended' as const, 'lifted' as const),
  reason: fc.constantFrom(...SUSPENSION_LEAF_REASONS),
});

describe('suspension leaves (property)', () => {
  it('parse back exactly, and only with an action and reason word from the closed sets', () => {
    fc.assert(
      fc.property(leaf, fc.string({ maxLength: 12 }), (l, word) => {
        expect(parseLeaf(encodeLeaf(l))).toEqual(l);
        const badReason = { ...l, reason: word };
        expect(parseLeaf(encodeLeaf(badReason as PublicLeaf)) !== undefined).toBe(
          (SUSPENSION_LEAF_REASONS as readonly string[]).includes(word),
        );
        expect(parseLeaf(encodeLeaf({ ...l, action: `${word}x` } as unknown as PublicLeaf))).toBeUndefined();
      }),
    );
  });

  it('are counted in the report of the period they fall in, and only there', () => {
    fc.assert(
      fc.property(fc.array(leaf, { maxLength: 30 }), (leaves) => {
        for (const period of ['2026-H1', '2026-H2']) {
          const { from, to } = periodBounds(period);
          const inside = leaves.filter((l) => l.at >= from && l.at < to);
          const { moderation } = computeReport(leaves, period);
          expect(moderation.suspended).toBe(inside.filter((l) => l.action === 'suspended').length);
          expect(moderation.lifted).toBe(inside.filter((l) => l.action === 'lifted').length);
          expect(Object.values(moderation.suspendedByReason).reduce((a, b) => a + b, 0)).toBe(
            moderation.suspended,
          );
        }
      }),
    );
  });
});
