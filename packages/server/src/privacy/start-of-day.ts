const DAY_MS = 86_400_000;

/** The start of the UTC day: last-seen times are kept no finer than this. */
export function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
