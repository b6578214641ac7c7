import type { LegalRequest } from './legal-request.ts';

/**
 * When a request's non-disclosure order ends: the last millisecond of its `until` day (UTC) when a
 * date is given, the instant itself for a date-time; null when the request carries no order.
 */
export function nonDisclosureEnds(request: Pick<LegalRequest, 'nonDisclosure'>): number | null {
  const until = request.nonDisclosure?.until;
  if (until === undefined) return null;
  return until.length === 10 ? Date.parse(`${until}T23:59:59.999Z`) : Date.parse(until);
}

/**
 * Whether a court's non-disclosure order forbids, at `now`, telling the account holder about the
 * case (docs/legal-requests.md, "Non-disclosure orders"). It silences only what would reach the
 * person; the request is logged and counted in the transparency report like any other.
 */
export function nonDisclosureInForce(request: Pick<LegalRequest, 'nonDisclosure'>, now: number): boolean {
  const ends = nonDisclosureEnds(request);
  return ends !== null && now <= ends;
}
