import type { Endpoint } from '@courier/protocol';

export interface CandidateState {
  /** The endpoint of the last connection that reached `ready`. */
  lastGood: string | undefined;
  /** When each endpoint last failed (ms). */
  failedAt: ReadonlyMap<string, number>;
}

export interface OrderOptions {
  now: number;
  /** An endpoint that failed within this window is tried only after all others. */
  failCooldownMs: number;
  /** Uniform in [0, 1); injected so tests control the shuffle. */
  random: () => number;
}

/**
 * The order in which to try endpoints: the last good one first (unless it just failed), then the
 * rest in a weighted random order (an endpoint of weight w is picked first w times as often as one
 * of weight 1), and last the ones that failed recently, oldest failure first. Every endpoint appears
 * exactly once, so a full round always tries everything.
 */
export function orderCandidates(
  endpoints: readonly Endpoint[],
  state: CandidateState,
  options: OrderOptions,
): Endpoint[] {
  const recent = (e: Endpoint) => {
    const at = state.failedAt.get(e.id);
    return at !== undefined && options.now - at < options.failCooldownMs;
  };
  const fresh = endpoints.filter((e) => !recent(e));
  const failed = endpoints
    .filter(recent)
    .sort((a, b) => (state.failedAt.get(a.id) ?? 0) - (state.failedAt.get(b.id) ?? 0));
  const first = fresh.find((e) => e.id === state.lastGood);
  const rest = weightedShuffle(
    fresh.filter((e) => e !== first),
    options.random,
  );
  return [...(first ? [first] : []), ...rest, ...failed];
}

/** Efraimidis–Spirakis: sort by u^(1/w), descending. */
function weightedShuffle(endpoints: readonly Endpoint[], random: () => number): Endpoint[] {
  return endpoints
    .map((endpoint) => ({ endpoint, key: Math.log(1 - random()) / endpoint.weight }))
    .sort((a, b) => b.key - a.key)
    .map((k) => k.endpoint);
}

/** Records outcomes: the state machine behind `orderCandidates`. */
export class CandidateTracker implements CandidateState {
  lastGood: string | undefined;
  readonly failedAt = new Map<string, number>();

  constructor(lastGood?: string) {
    this.lastGood = lastGood;
  }

  succeeded(id: string): void {
    this.lastGood = id;
    this.failedAt.delete(id);
  }

  failed(id: string, now: number): void {
    this.failedAt.set(id, now);
    if (this.lastGood === id) this.lastGood = undefined;
  }
}
