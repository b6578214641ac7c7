import { createHmac } from 'node:crypto';

/** ISO 8601 week of a time, e.g. `2026-W48`: the period after which an account's relays rotate. */
export function isoWeek(ms: number): string {
  const date = new Date(ms);
  const day = (date.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3));
  const year = thursday.getUTCFullYear();
  // The week holding this Thursday, counted from the year's first day.
  const week = Math.ceil(((thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export interface WeightedRelay {
  id: string;
  weight: number;
}

/**
 * The relays an account gets this week: weighted rendezvous hashing keyed by a server secret, so
 * the subset is stable for the week, spreads accounts evenly (by weight), changes little when a
 * relay is added or removed, and cannot be computed (or enumerated) by someone without the secret.
 */
export function relaysForAccount(
  relays: readonly WeightedRelay[],
  accountId: string,
  secret: Uint8Array,
  now: number,
  count: number,
): string[] {
  const week = isoWeek(now);
  const scored = relays.map((relay) => {
    const digest = createHmac('sha256', secret).update(`${week}\0${accountId}\0${relay.id}`).digest();
    // A uniform number in (0, 1) from 52 bits of the digest; -w/ln(u) is the weighted score.
    const u = (Number(digest.readBigUInt64BE(0) >> 12n) + 1) / (2 ** 52 + 2);
    return { id: relay.id, score: -relay.weight / Math.log(u) };
  });
  scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  return scored.slice(0, count).map((s) => s.id);
}
