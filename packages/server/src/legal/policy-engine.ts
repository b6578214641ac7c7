import type { LegalRequest, LegalTarget } from './legal-request.ts';
import { type DisclosableCategory, type DisclosurePolicy, isDisclosable, policyHash } from './policy.ts';

export type ReasonCode =
  | 'JURISDICTION_NOT_CONSIDERED'
  | 'LEGAL_PROCESS_INSUFFICIENT'
  | 'NOT_TERROR_SUSPECT'
  | 'NOT_CRIMINAL_SUSPECT'
  | 'CONTENT_NEVER_DISCLOSED'
  | 'NOT_SPECIFIC'
  | 'TARGET_NOT_FOUND'
  | 'NO_DATA_RETAINED';

export type Outcome = 'not_considered' | 'rejected' | 'eligible';

/**
 * What the engine may learn about accounts: nothing else. Consulted only for requests that pass
 * every legal rule, and never for a request that is not considered.
 */
export interface LegalFacts {
  /** The account a target names, or undefined. */
  resolve(target: LegalTarget): Promise<string | undefined>;
  /** Whether IP connection records of the account exist within the range. */
  hasIpRecords(accountId: string, from: number, to: number): Promise<boolean>;
}

export interface Decision {
  outcome: Outcome;
  reasons: ReasonCode[];
  /** What may be disclosed if two approvers agree: always a subset of phone_number, ip_addresses. */
  disclosable: DisclosableCategory[];
  /** The accounts the request names (only when facts were consulted and all were found). */
  accounts: string[];
  policyVersion: string;
  policyHash: string;
  /** False when no facts were available (e.g. `legal evaluate` without a database). */
  factsChecked: boolean;
}

const WILDCARDS = new Set(['*', 'all', 'any', 'everyone', '%']);
const MONTH_MS = 2_629_746_000;

function isBulk(target: LegalTarget): boolean {
  const value = 'userId' in target ? target.userId : 'phone' in target ? target.phone : target.username;
  return WILDCARDS.has(value.trim().toLowerCase()) || /[*%]/.test(value);
}

/**
 * Applies a policy version to a request. The rules apply in this order, and the result depends on
 * nothing else (docs/legal-requests.md):
 * 1. P5 jurisdiction → not_considered, and nothing is looked up;
 * 2. P1 instrument, P2 offence, specificity, P3/P4 categories → every failing rule is a reason;
 *    any of them rejects;
 * 3. only then facts: every target must exist (TARGET_NOT_FOUND), and IP records must exist in the
 *    range and the retention window (NO_DATA_RETAINED narrows, or rejects when nothing remains).
 */
export async function evaluate(
  request: LegalRequest,
  policy: DisclosurePolicy,
  facts: LegalFacts | undefined,
  now: number,
): Promise<Decision> {
  const base = { policyVersion: policy.version, policyHash: policyHash(policy) };
  if (policy.notConsideredJurisdictions.includes(request.authority.country)) {
    return {
      ...base,
      outcome: 'not_considered',
      reasons: ['JURISDICTION_NOT_CONSIDERED'],
      disclosable: [],
      accounts: [],
      factsChecked: false,
    };
  }
  const reasons: ReasonCode[] = [];
  const fatal = new Set<ReasonCode>();
  const fail = (reason: ReasonCode) => {
    reasons.push(reason);
    fatal.add(reason);
  };
  if (
    !policy.acceptedInstruments.includes(request.instrument.type) ||
    request.instrument.issuingCourt === ''
  ) {
    fail('LEGAL_PROCESS_INSUFFICIENT');
  }
  const category = request.offence.category.trim().toLowerCase();
  const offenceQualifies = policy.offenceCategories === 'any' || policy.offenceCategories.includes(category);
  if (!offenceQualifies || (policy.requiresConfirmedSuspect && !request.offence.confirmsSuspect))
    fail(policy.suspectReason);
  if (request.targets.some(isBulk)) fail('NOT_SPECIFIC');
  const requested = [...new Set(request.requestedCategories.map((c) => c.trim().toLowerCase()))];
  let disclosable = requested.filter(isDisclosable).filter((c) => policy.disclosableCategories.includes(c));
  if (requested.length > disclosable.length) {
    // Content, keys, contacts, …: never disclosed. Removed, or the reason to reject if nothing is left.
    if (disclosable.length === 0) fail('CONTENT_NEVER_DISCLOSED');
    else reasons.push('CONTENT_NEVER_DISCLOSED');
  }
  if (fatal.size > 0)
    return { ...base, outcome: 'rejected', reasons, disclosable: [], accounts: [], factsChecked: false };
  if (!facts)
    return { ...base, outcome: 'eligible', reasons, disclosable, accounts: [], factsChecked: false };

  const accounts: string[] = [];
  for (const target of request.targets) {
    const account = await facts.resolve(target);
    if (!account) {
      return {
        ...base,
        outcome: 'rejected',
        reasons: [...reasons, 'TARGET_NOT_FOUND'],
        disclosable: [],
        accounts: [],
        factsChecked: true,
      };
    }
    if (!accounts.includes(account)) accounts.push(account);
  }
  if (disclosable.includes('ip_addresses')) {
    const from = Math.max(Date.parse(request.timeRange.from), now - policy.ipRetentionMonths * MONTH_MS);
    const to = Date.parse(request.timeRange.to);
    let retained = false;
    if (from <= to) {
      for (const account of accounts) retained ||= await facts.hasIpRecords(account, from, to);
    }
    if (!retained) {
      disclosable = disclosable.filter((c) => c !== 'ip_addresses');
      reasons.push('NO_DATA_RETAINED');
      if (disclosable.length === 0)
        return { ...base, outcome: 'rejected', reasons, disclosable: [], accounts: [], factsChecked: true };
    }
  }
  return { ...base, outcome: 'eligible', reasons, disclosable, accounts, factsChecked: true };
}
