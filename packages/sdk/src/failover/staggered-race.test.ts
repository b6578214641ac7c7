import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { staggeredRace } from './staggered-race.ts';

type Plan = { outcome: 'ok' | 'fail' | 'hang'; afterMs: number };

/** Runs a race over planned attempts and records what was started and cancelled. */
async function run(plans: Plan[], staggerMs = 5) {
  const started: number[] = [];
  const cancelled = new Set<number>();
  const closedLate: number[] = [];
  const outcome = await staggeredRace(
    plans.map((_, i) => i),
    (i) => {
      started.push(i);
      const plan = plans[i]!;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const promise = new Promise<number>((resolve, reject) => {
        if (plan.outcome === 'hang') return;
        timer = setTimeout(
          () => (plan.outcome === 'ok' ? resolve(i) : reject(new Error(`fail ${i}`))),
          plan.afterMs,
        );
      });
      promise.then(
        () => {
          if (cancelled.has(i)) closedLate.push(i);
        },
        () => {},
      );
      return {
        promise,
        cancel: () => {
          cancelled.add(i);
          if (plan.outcome !== 'ok') clearTimeout(timer);
        },
      };
    },
    { staggerMs, attemptTimeoutMs: 200 },
  );
  return { outcome, started, cancelled };
}

describe('staggered race (RFC 8305)', () => {
  it('has exactly one winner that succeeded, cancels every other started attempt, and fails only when all failed (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            outcome: fc.constantFrom('ok' as const, 'fail' as const, 'hang' as const),
            afterMs: fc.integer({ min: 0, max: 30 }),
          }),
          { minLength: 0, maxLength: 6 },
        ),
        async (plans) => {
          const { outcome, started, cancelled } = await run(plans);
          // Attempts start in candidate order, each at most once.
          expect(started).toEqual(started.map((_, i) => i));
          if (outcome.kind === 'won') {
            expect(plans[outcome.candidate]!.outcome).toBe('ok');
            for (const i of started) if (i !== outcome.candidate) expect(cancelled.has(i)).toBe(true);
            expect(cancelled.has(outcome.candidate)).toBe(false);
          } else {
            expect(plans.every((p) => p.outcome !== 'ok')).toBe(true);
            expect(started).toHaveLength(plans.length);
            expect(outcome.failed.sort()).toEqual(plans.map((_, i) => i));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('starts the next attempt at once when the running one fails outright, without waiting for the stagger', async () => {
    const { outcome } = await run(
      [
        { outcome: 'fail', afterMs: 0 },
        { outcome: 'ok', afterMs: 0 },
      ],
      60_000,
    );
    // With a one-minute stagger the test would time out if the second attempt waited for it.
    expect(outcome).toMatchObject({ kind: 'won', candidate: 1 });
  });

  it('lets a later candidate win while an earlier one hangs', async () => {
    const { outcome } = await run([
      { outcome: 'hang', afterMs: 0 },
      { outcome: 'ok', afterMs: 1 },
    ]);
    expect(outcome).toMatchObject({ kind: 'won', candidate: 1 });
  });
});
