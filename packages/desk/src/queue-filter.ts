/** The queue's filters: status, country, outcome (staff) and age, applied to the list the server allowed. */
import type { CaseSummary } from './api.ts';

const DAY = 86_400_000;
export const AGES: Record<string, [string, (ageMs: number) => boolean]> = {
  '': ['any age', () => true],
  d1: ['last 24 hours', (a) => a <= DAY],
  d7: ['last 7 days', (a) => a <= 7 * DAY],
  d30: ['last 30 days', (a) => a <= 30 * DAY],
  older30: ['older than 30 days', (a) => a > 30 * DAY],
};
export const OUTCOMES = ['eligible', 'rejected', 'not_considered'];

export interface QueueFilters {
  status: string;
  country: string;
  outcome: string;
  age: string;
}

/** The cases that pass the filters (exported for its unit test). */
export function filterCases(cases: readonly CaseSummary[], f: QueueFilters, now: number): CaseSummary[] {
  const age = AGES[f.age]?.[1] ?? (() => true);
  return cases.filter(
    (c) =>
      (f.status === '' || c.status === f.status) &&
      (f.country === '' || c.country === f.country) &&
      (f.outcome === '' || c.outcome === f.outcome) &&
      age(now - c.receivedAt),
  );
}
