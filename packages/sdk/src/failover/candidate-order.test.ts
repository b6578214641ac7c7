import type { Endpoint } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CandidateTracker, orderCandidates } from './candidate-order.ts';

const endpointsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 15 })
  .chain((ids) =>
    fc.tuple(
      fc.constant(ids),
      fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: ids.length, maxLength: ids.length }),
    ),
  )
  .map(([ids, weights]) =>
    ids.map(
      (n, i): Endpoint => ({
        id: `e${n}`,
        kind: n % 3 ? 'relay' : 'core',
        url: `ws://198.18.0.${n}/`,
        weight: weights[i]!,
      }),
    ),
  );

type Step = { kind: 'ok' | 'fail'; pick: number; advance: number };
const stepArb = fc.record({
  kind: fc.constantFrom('ok' as const, 'fail' as const),
  pick: fc.nat(),
  advance: fc.integer({ min: 0, max: 20_000 }),
});

describe('candidate order', () => {
  it('tries every endpoint exactly once per round, last good first unless it just failed, recent failures last (property)', () => {
    fc.assert(
      fc.property(
        endpointsArb,
        fc.array(stepArb, { maxLength: 40 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (endpoints, steps: Step[], seed) => {
          const tracker = new CandidateTracker();
          let now = 1_000_000;
          let r = seed;
          const random = () => {
            r = (r * 9301 + 0.49297) % 1;
            return r;
          };
          const cooldown = 10_000;
          for (const step of steps) {
            now += step.advance;
            const order = orderCandidates(endpoints, tracker, { now, failCooldownMs: cooldown, random });
            // A permutation: nothing dropped, nothing twice.
            expect(order.map((e) => e.id).sort()).toEqual(endpoints.map((e) => e.id).sort());
            const recent = (id: string) => {
              const at = tracker.failedAt.get(id);
              return at !== undefined && now - at < cooldown;
            };
            const firstRecent = order.findIndex((e) => recent(e.id));
            if (firstRecent >= 0) expect(order.slice(firstRecent).every((e) => recent(e.id))).toBe(true);
            if (tracker.lastGood && !recent(tracker.lastGood)) expect(order[0]!.id).toBe(tracker.lastGood);
            const chosen = order[step.pick % order.length]!;
            if (step.kind === 'ok') tracker.succeeded(chosen.id);
            else tracker.failed(chosen.id, now);
          }
        },
      ),
    );
  });

  it('puts heavier endpoints first more often', () => {
    const endpoints: Endpoint[] = [
      { id: 'heavy', kind: 'relay', url: 'ws://198.18.0.1/', weight: 9 },
      { id: 'light', kind: 'relay', url: 'ws://198.18.0.2/', weight: 1 },
    ];
    let heavyFirst = 0;
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 2000; i++)
      if (
        orderCandidates(endpoints, new CandidateTracker(), { now: 0, failCooldownMs: 1, random })[0]!.id ===
        'heavy'
      )
        heavyFirst++;
    expect(heavyFirst).toBeGreaterThan(1700);
    expect(heavyFirst).toBeLessThan(1900);
  });
});
