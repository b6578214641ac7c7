/**
 * The MLS soak's own logic, with a property of the test's making (no MLS work): it goes on after a
 * failure, shrinks each failing history, reports the seed that replays it, and stops at its bounds.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type HistoryOp, historyArb } from '../packages/mls/src/testing-histories.ts';
import { runMlsSoak, type SoakProperty } from './mls-soak.ts';

/** Fails every history with two adds or more: the smallest such history is two adds of one member. */
const twoAddsFail: SoakProperty = (_context, maxOps, stats) =>
  fc.asyncProperty(historyArb(maxOps), async (ops) => {
    stats.histories++;
    if (ops.filter((op) => op.kind === 'add').length >= 2) throw new Error('two adds');
  });

const smallestFailure: HistoryOp[] = [
  { kind: 'add', count: 1, by: 0 },
  { kind: 'add', count: 1, by: 0 },
];

describe('mls-soak', () => {
  test('reports every failing chunk with its shrunk history and seed, and keeps searching after one', async () => {
    const { figures, failures } = await runMlsSoak(
      { histories: 40, seconds: 600, maxOps: 6, seed: 1234, chunk: 10 },
      twoAddsFail,
    );
    // the pinned histories (first chunk) have two adds each: that chunk fails at once
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures[0]!.seed).toBe(1234);
    expect(failures[0]!.ops).toEqual(smallestFailure);
    for (const failure of failures) {
      expect(failure.ops.filter((op) => op.kind === 'add').length).toBeGreaterThanOrEqual(2);
      expect(failure.error).toContain('two adds');
      expect(failure.path).toEqual(expect.any(String));
    }
    const value = (name: string) => figures.find((f) => f.figure === name)?.value;
    expect(value('failures')).toBe(failures.length);
    expect(figures.find((f) => f.figure === 'failures')?.counterexamples).toEqual(failures);
    expect(value('histories_checked')).toBeGreaterThan(failures.length);
    expect(value('histories_checked')).toBeLessThanOrEqual(40);
  });

  test('replaying a reported seed and path gives the same failing history', async () => {
    const { failures } = await runMlsSoak(
      { histories: 30, seconds: 600, maxOps: 6, seed: 99, chunk: 10 },
      twoAddsFail,
    );
    const later = failures.find((f) => f.seed !== 99)!;
    const replay = await fc.check(twoAddsFail(undefined as never, 6, { histories: 0 } as never), {
      seed: later.seed,
      path: later.path!,
      endOnFailure: true,
    });
    expect(replay.failed).toBe(true);
    expect(replay.counterexample?.[0]).toEqual(later.ops);
  });

  test('stops at the number of histories asked for when nothing fails', async () => {
    const passing: SoakProperty = (_context, maxOps) =>
      fc.asyncProperty(historyArb(maxOps), async (_ops: HistoryOp[]) => {});
    const { figures, failures } = await runMlsSoak(
      { histories: 25, seconds: 600, maxOps: 4, seed: 5, chunk: 10 },
      passing,
    );
    expect(failures).toEqual([]);
    expect(figures.find((f) => f.figure === 'histories_checked')?.value).toBe(25);
  });
});
