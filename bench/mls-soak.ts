/**
 * The MLS soak (`npm run bench -- mls-soak [--histories N] [--seconds S] [--max-ops N] [--seed N]`):
 * packages/mls alone, in this process, no server. It runs the group-history property of
 * packages/mls/src/testing-histories.ts (any member adds, removes or updates; reloads of saved state;
 * every newcomer joins and so validates the whole tree; all members agree after each step; memoised
 * tree hashes equal a recomputation) for many more histories than the test suite does, so that histories
 * like issue 11's (a group nobody could join after a removal) are searched for rather than met by chance.
 *
 * It runs in chunks of fast-check runs with consecutive seeds, the pinned histories first, until
 * `histories` have been checked or `seconds` have passed (fast-check's interruptAfterTimeLimit ends the
 * chunk under way), and goes on after a failure so that one soak can report several. Each failure is
 * printed shrunk, with the seed and path that replay it. Exits non-zero when any history failed.
 */
import fc from 'fast-check';
import type { MlsClientContext } from '../packages/mls/src/mls-context.ts';
import { testingContext } from '../packages/mls/src/testing-devices.ts';
import {
  emptyHistoryStats,
  type HistoryOp,
  type HistoryStats,
  historyProperty,
  PINNED_HISTORIES,
} from '../packages/mls/src/testing-histories.ts';
import { type Figure, progress, round } from './figure.ts';

export const MLS_SOAK_DEFAULTS = { histories: 2000, seconds: 600, maxOps: 12, chunk: 50 };

export interface MlsSoakParams {
  histories: number;
  seconds: number;
  maxOps: number;
  seed: number;
  chunk?: number;
}

/** A figure line; the failures line also lists each failing history (BENCH.md welcomes extra keys). */
export type SoakFigure = Figure & { counterexamples?: SoakFailure[] };

export interface SoakFailure {
  seed: number;
  path: string | undefined;
  ops: HistoryOp[];
  error: string;
}

/** The property a soak runs; tests give one of their own to see the soak find, shrink and report. */
export type SoakProperty = (
  context: MlsClientContext,
  maxOps: number,
  stats: HistoryStats,
) => fc.IAsyncProperty<[HistoryOp[]]>;

export async function runMlsSoak(
  params: MlsSoakParams,
  property: SoakProperty = historyProperty,
  now: () => number = () => performance.now(),
): Promise<{ figures: SoakFigure[]; failures: SoakFailure[] }> {
  const context = await testingContext();
  const stats = emptyHistoryStats();
  const chunk = params.chunk ?? MLS_SOAK_DEFAULTS.chunk;
  const failures: SoakFailure[] = [];
  const start = now();
  const elapsedMs = () => now() - start;
  let checked = 0;
  let interrupted = false;
  for (let i = 0; checked < params.histories && !interrupted; i++) {
    const remainingMs = params.seconds * 1000 - elapsedMs();
    if (remainingMs <= 0) break;
    const seed = (params.seed + i) | 0;
    const details = await fc.check(property(context, params.maxOps, stats), {
      numRuns: Math.min(chunk, params.histories - checked),
      seed,
      ...(i === 0 ? { examples: PINNED_HISTORIES.map((h): [HistoryOp[]] => [h.ops]) } : {}),
      plugins: [fc.interruptAfterTimeLimit(remainingMs)],
    });
    checked += details.numRuns;
    interrupted = details.interrupted;
    if (details.failed && !details.interrupted) {
      const failure: SoakFailure = {
        seed,
        path: details.counterexamplePath ?? undefined,
        ops: (details.counterexample as [HistoryOp[]] | null)?.[0] ?? [],
        error: String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance),
      };
      failures.push(failure);
      progress(`mls-soak: failure (seed ${seed}, path ${failure.path}): ${JSON.stringify(failure.ops)}`);
      progress(`mls-soak:   ${failure.error}`);
    }
    progress(`mls-soak: ${checked} histories, ${failures.length} failures, ${round(elapsedMs() / 1000)} s`);
  }
  const seconds = elapsedMs() / 1000;
  const base = {
    bench: 'mls-soak',
    storage: 'none',
    params: {
      histories: params.histories,
      seconds: params.seconds,
      max_ops: params.maxOps,
      seed: params.seed,
      chunk,
    },
  };
  const figure = (
    name: string,
    value: number,
    unit: string,
    extra: Partial<SoakFigure> = {},
  ): SoakFigure => ({
    ...base,
    figure: name,
    value,
    unit,
    ...extra,
  });
  return {
    failures,
    figures: [
      figure('histories_checked', checked, 'histories'),
      figure(
        'failures',
        failures.length,
        'histories',
        failures.length > 0 ? { counterexamples: failures } : {},
      ),
      figure('seconds', round(seconds, 2), 's'),
      figure('histories_per_s', round(checked / Math.max(seconds, 1e-9), 2), 'histories/s'),
      // Work done, shrinking included: steps applied, joins (each validates the whole tree), commits
      // processed by receivers, full tree checks (memo against recomputation).
      figure('steps_applied', stats.ops, 'steps'),
      figure('joins', stats.joins, 'joins'),
      figure('commits_processed', stats.commitsProcessed, 'commits'),
      figure('trees_checked', stats.treesChecked, 'trees'),
    ],
  };
}
