export interface Attempt<T> {
  /** Resolves with the connected thing when its handshake completes; rejects when it fails. */
  promise: Promise<T>;
  /** Abandons the attempt (and closes what it opened, even if it completes later). */
  cancel(): void;
}

export interface RaceOptions {
  /** The next attempt starts after this delay, or at once when the running ones have all failed. */
  staggerMs: number;
  /** An attempt not done by then counts as failed. */
  attemptTimeoutMs: number;
}

export type RaceOutcome<C, T> =
  | { kind: 'won'; candidate: C; value: T; failed: C[] }
  | { kind: 'all_failed'; failed: C[]; errors: unknown[] };

/**
 * Connection racing as in RFC 8305 ("Happy Eyeballs"): start the first candidate; start the next one
 * after `staggerMs`, or at once when every running attempt has failed; the first to complete wins and
 * every other attempt is cancelled (a late winner is closed by its own cancel).
 */
export function staggeredRace<C, T>(
  candidates: readonly C[],
  start: (candidate: C) => Attempt<T>,
  options: RaceOptions,
): Promise<RaceOutcome<C, T>> {
  return new Promise((resolve) => {
    const running = new Map<C, { attempt: Attempt<T>; timer: ReturnType<typeof setTimeout> }>();
    const failed: C[] = [];
    const errors: unknown[] = [];
    let next = 0;
    let done = false;
    let staggerTimer: ReturnType<typeof setTimeout> | undefined;

    const finish = (outcome: RaceOutcome<C, T>) => {
      done = true;
      clearTimeout(staggerTimer);
      for (const [, { attempt, timer }] of running) {
        clearTimeout(timer);
        attempt.cancel();
      }
      running.clear();
      resolve(outcome);
    };

    const fail = (candidate: C, error: unknown) => {
      const entry = running.get(candidate);
      if (!entry || done) return;
      clearTimeout(entry.timer);
      entry.attempt.cancel();
      running.delete(candidate);
      failed.push(candidate);
      errors.push(error);
      if (running.size === 0) {
        if (next >= candidates.length) finish({ kind: 'all_failed', failed, errors });
        else launch();
      }
    };

    const launch = () => {
      if (done || next >= candidates.length) return;
      const candidate = candidates[next++]!;
      const attempt = start(candidate);
      const timer = setTimeout(
        () => fail(candidate, new Error('attempt timed out')),
        options.attemptTimeoutMs,
      );
      running.set(candidate, { attempt, timer });
      attempt.promise.then(
        (value) => {
          if (done || !running.has(candidate)) return;
          clearTimeout(timer);
          running.delete(candidate);
          finish({ kind: 'won', candidate, value, failed });
        },
        (error: unknown) => fail(candidate, error),
      );
      clearTimeout(staggerTimer);
      if (next < candidates.length) staggerTimer = setTimeout(launch, options.staggerMs);
    };

    if (candidates.length === 0) resolve({ kind: 'all_failed', failed, errors });
    else launch();
  });
}
