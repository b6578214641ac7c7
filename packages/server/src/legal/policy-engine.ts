/**
 * The policy engine: one version of the disclosure policy applied to one request. It is pure but for
 * `facts`, a narrow read-only view of accounts that it consults last, and only for a request that
 * every rule allows. docs/legal-requests.md describes the rules and every reason code.
 */
import { type LegalRequest, type LegalTarget, normalizeCategory } from './legal-request.ts';
import { type DisclosableCategory, type DisclosurePolicy, isDisclosable, policyHash } from './policy.ts';
import { isSpecificTarget } from './specific-target.ts';

/** Every reason code, in rule order: a decision lists its reasons in this order, each once. */
export const REASON_CODES = [
  'JURISDICTION_NOT_CONSIDERED',
  'LEGAL_PROCESS_INSUFFICIENT',
  'NOT_TERROR_SUSPECT',
  'NOT_CRIMINAL_SUSPECT',
  'NOT_SPECIFIC',
  'CONTENT_NEVER_DISCLOSED',
  'CATEGORY_NOT_DISCLOSABLE',
  'TARGET_NOT_FOUND',
  'NO_DATA_RETAINED',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
export type Outcome = 'not_considered' | 'rejected' | 'eligible';

/**
 * All the engine may learn about accounts. Never consulted for a request that is not considered or
 * that the rules reject; `undefined` means the facts are unknown (no database).
 */
export interface LegalFacts {
  /** The account a target names, or undefined when none does. */
  resolve(target: LegalTarget): Promise<string | undefined>;
  /** Whether the account has IP connection records that overlap [from, to] (ms since the epoch). */
  hasIpRecords(accountId: string, from: number, to: number): Promise<boolean>;
}

export type TargetFinding =
  | { target: LegalTarget; status: 'not_specific' | 'not_looked_up' | 'not_found' }
  | { target: LegalTarget; status: 'found'; accountId: string };

/** A requested category that will not be disclosed, and why. */
export interface Withheld {
  category: string;
  reason: 'CONTENT_NEVER_DISCLOSED' | 'CATEGORY_NOT_DISCLOSABLE' | 'NO_DATA_RETAINED';
}

export interface Decision {
  outcome: Outcome;
  reasons: ReasonCode[];
  /** What may be disclosed if the approvers agree (P6): a subset of phone_number, ip_addresses; [] unless eligible. */
  disclosable: DisclosableCategory[];
  withheld: Withheld[];
  /** Each target in request order, and what became of it. */
  targets: TargetFinding[];
  /** The distinct accounts found (only when facts were consulted). */
  accounts: string[];
  /** When ip_addresses is disclosable: the part of the range within the retention window; else null. */
  ipRange: { from: string; to: string } | null;
  /** `not_consulted`: the rules decided alone; `unknown`: eligible by the rules, but nothing was looked up. */
  facts: 'consulted' | 'unknown' | 'not_consulted';
  policyId: string;
  policyVersion: string;
  policyHash: string;
}

/** The same average month as the retention job (services/retention-job.ts) uses to delete records. */
const MONTH_MS = 2_629_746_000;

/** The part of [from, to] that is neither in the future nor older than the IP retention window. */
export function retainedIpRange(
  range: { from: string; to: string },
  policy: Pick<DisclosurePolicy, 'ipRetentionMonths'>,
  now: number,
): { from: number; to: number } | undefined {
  if (policy.ipRetentionMonths === 0) return undefined;
  const from = Math.max(Date.parse(range.from), now - policy.ipRetentionMonths * MONTH_MS);
  const to = Math.min(Date.parse(range.to), now);
  return from <= to ? { from, to } : undefined;
}

/**
 * Applies a policy version to a request at time `now`. The decision depends on nothing but the
 * arguments and the facts' answers; the rules apply in this order (docs/legal-requests.md):
 * 1. P5 jurisdiction on the not-considered list → not_considered; nothing else is looked at.
 * 2. P1 instrument, 3. P2 offence and suspect, 4. P4 specific targets: each failure is a reason.
 * 5. P3/P4 categories, in request order: content → CONTENT_NEVER_DISCLOSED, anything else that is
 *    not disclosable → CATEGORY_NOT_DISCLOSABLE, ip_addresses wholly outside the retention window →
 *    NO_DATA_RETAINED; each is withheld.
 * 6. A failure in 2–4, or nothing disclosable left → rejected, with every reason found.
 * 7. Only then, facts (if given): targets naming no account are dropped (TARGET_NOT_FOUND; rejected
 *    when none is found), then ip_addresses is withheld when no found account has records in the
 *    range (NO_DATA_RETAINED; rejected when nothing is left).
 */
export async function evaluate(
  request: LegalRequest,
  policy: DisclosurePolicy,
  facts: LegalFacts | undefined,
  now: number,
): Promise<Decision> {
  const identity = { policyId: policy.id, policyVersion: policy.version, policyHash: policyHash(policy) };
  const unchecked = (status: 'not_looked_up' | 'not_specific', target: LegalTarget): TargetFinding => ({
    target,
    status,
  });

  // 1. P5: not considered at all. No other rule is applied and nothing is looked up.
  if (policy.notConsideredJurisdictions.includes(request.authority.country.trim().toUpperCase())) {
    return {
      outcome: 'not_considered',
      reasons: ['JURISDICTION_NOT_CONSIDERED'],
      disclosable: [],
      withheld: [],
      targets: request.targets.map((t) => unchecked('not_looked_up', t)),
      accounts: [],
      ipRange: null,
      facts: 'not_consulted',
      ...identity,
    };
  }

  const reasons = new Set<ReasonCode>();
  let rejected = false;
  const fail = (reason: ReasonCode) => {
    reasons.add(reason);
    rejected = true;
  };
  // 2. P1: a judicial decision of an accepted kind, naming the court that issued it.
  if (
    !policy.acceptedInstruments.includes(request.instrument.type) ||
    request.instrument.issuingCourt.trim() === ''
  ) {
    fail('LEGAL_PROCESS_INSUFFICIENT');
  }
  // 3. P2: a qualifying offence, and the order confirms the account holder is a suspect.
  const offence = request.offence.category.trim().toLowerCase();
  const required = policy.requiredOffenceCategories;
  if (
    (required !== 'any' && !required.includes(offence)) ||
    (policy.requiresConfirmedSuspect && !request.offence.confirmsSuspect)
  ) {
    fail(policy.suspectReason);
  }
  // 4. P4: one or more specific accounts, no bulk or wildcard target.
  const specific = request.targets.map(isSpecificTarget);
  if (specific.length === 0 || specific.includes(false)) fail('NOT_SPECIFIC');

  // 5. P3/P4: only what the closed set allows; content and everything else withheld.
  let disclosable: DisclosableCategory[] = [];
  const withheld: Withheld[] = [];
  const withhold = (category: string, reason: Withheld['reason']) => {
    withheld.push({ category, reason });
    reasons.add(reason);
  };
  for (const category of new Set(request.requestedCategories.map(normalizeCategory))) {
    if (isDisclosable(category) && policy.disclosableCategories.includes(category))
      disclosable.push(category);
    else if (policy.contentCategories.includes(category)) withhold(category, 'CONTENT_NEVER_DISCLOSED');
    else withhold(category, 'CATEGORY_NOT_DISCLOSABLE');
  }
  const ipRange = retainedIpRange(request.timeRange, policy, now);
  const withholdIps = () => {
    disclosable = disclosable.filter((c) => c !== 'ip_addresses');
    withhold('ip_addresses', 'NO_DATA_RETAINED');
  };
  if (disclosable.includes('ip_addresses') && !ipRange) withholdIps();

  const decide = (
    outcome: 'rejected' | 'eligible',
    rest: Pick<Decision, 'targets' | 'accounts' | 'facts'>,
  ) => ({
    outcome,
    reasons: REASON_CODES.filter((r) => reasons.has(r)),
    disclosable: outcome === 'eligible' ? disclosable : [],
    withheld,
    ipRange:
      outcome === 'eligible' && ipRange && disclosable.includes('ip_addresses')
        ? { from: new Date(ipRange.from).toISOString(), to: new Date(ipRange.to).toISOString() }
        : null,
    ...rest,
    ...identity,
  });
  // 6. Any rule failed, or nothing is left to disclose: rejected without a lookup.
  if (rejected || disclosable.length === 0) {
    return decide('rejected', {
      targets: request.targets.map((t, i) => unchecked(specific[i] ? 'not_looked_up' : 'not_specific', t)),
      accounts: [],
      facts: 'not_consulted',
    });
  }
  if (!facts) {
    return decide('eligible', {
      targets: request.targets.map((t) => unchecked('not_looked_up', t)),
      accounts: [],
      facts: 'unknown',
    });
  }

  // 7. Facts, in request order: which accounts exist, then whether IP records remain.
  const targets: TargetFinding[] = [];
  const accounts: string[] = [];
  for (const target of request.targets) {
    const accountId = await facts.resolve(target);
    if (accountId === undefined) {
      targets.push({ target, status: 'not_found' });
      reasons.add('TARGET_NOT_FOUND');
      continue;
    }
    targets.push({ target, status: 'found', accountId });
    if (!accounts.includes(accountId)) accounts.push(accountId);
  }
  if (accounts.length === 0) return decide('rejected', { targets, accounts: [], facts: 'consulted' });
  if (disclosable.includes('ip_addresses') && ipRange) {
    let retained = false;
    for (const accountId of accounts) {
      if (await facts.hasIpRecords(accountId, ipRange.from, ipRange.to)) {
        retained = true;
        break;
      }
    }
    if (!retained) withholdIps();
  }
  if (disclosable.length === 0) return decide('rejected', { targets, accounts: [], facts: 'consulted' });
  return decide('eligible', { targets, accounts, facts: 'consulted' });
}
