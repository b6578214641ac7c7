import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PublicLeaf } from './log-leaf.ts';
import { computeReport, periodBounds, periodOf, reportPeriods } from './report.ts';

const YEAR = 365 * 24 * 3600 * 1000;
const time = fc.integer({ min: Date.UTC(2018, 0, 1), max: Date.UTC(2030, 11, 31) });
const request = fc.record({
  v: fc.constant(1 as const),
  type: fc.constant('request' as const),
  at: time,
  case: fc.string({ minLength: 4, maxLength: 4 }),
  country: fc.constantFrom('DE', 'US', 'RU'),
  instrument: fc.constant('court_order'),
  outcome: fc.constantFrom('not_considered' as const, 'rejected' as const, 'eligible' as const),
  reasons: fc.constant([] as string[]),
  requested: fc.constant<string[]>(['phone_number']),
  eligible: fc.constant([] as string[]),
  accountsSpecified: fc.integer({ min: 0, max: 3 }),
  policyVersion: fc.constant('2018-08-14'),
});

describe('reportPeriods (property)', () => {
  it('lists every half-year once, in order, from the first policy leaf to now, with each report’s totals', () => {
    fc.assert(
      fc.property(
        time,
        fc.integer({ min: 0, max: 6 * YEAR }),
        fc.array(request, { maxLength: 20 }),
        (policyAt, span, requests) => {
          const now = policyAt + span;
          const leaves: PublicLeaf[] = [
            { v: 1, type: 'policy', at: policyAt, policyVersion: '2018-08-14', policyHash: 'ab' },
            ...requests,
          ];
          const list = reportPeriods(leaves, now);
          expect(list[0]!.period).toBe(periodOf(policyAt));
          expect(list.at(-1)!.period).toBe(periodOf(now));
          for (const [i, entry] of list.entries()) {
            expect(entry.period).toMatch(/^\d{4}-H[12]$/);
            if (i > 0) expect(periodBounds(entry.period).from).toBe(periodBounds(list[i - 1]!.period).to);
            const report = computeReport(leaves, entry.period);
            expect(entry.received).toBe(report.totals.received);
            expect(entry.fulfilled).toBe(report.totals.fulfilled);
            expect(entry.suspended).toBe(report.moderation.suspended);
            expect(entry.policyVersion).toBe(report.policy?.version ?? null);
          }
        },
      ),
    );
  });

  it('is just the current period when no policy was recorded yet', () => {
    fc.assert(
      fc.property(time, (now) => {
        expect(reportPeriods([], now).map((p) => p.period)).toEqual([periodOf(now)]);
      }),
    );
  });
});
