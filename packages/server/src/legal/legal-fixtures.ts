/** Test fixtures for the legal desk's request, policy and engine tests (not exported by the package). */
import { type LegalRequestInput, type LegalTarget, targetValue } from './legal-request.ts';
import type { LegalFacts } from './policy-engine.ts';

/** "Now" in the engine tests: the 12-month IP window reaches back to 2025-11-01. */
export const NOW = Date.parse('2026-11-01T00:00:00Z');

/** A request the 2018 policy allows: a German court order, terrorism, confirmed suspect. */
export const ELIGIBLE_INPUT = {
  authority: { name: 'Amtsgericht Berlin-Tiergarten', kind: 'court', country: 'DE' },
  instrument: {
    type: 'court_order',
    issuingCourt: 'Amtsgericht Berlin-Tiergarten',
    reference: '352 Gs 1234/26',
    issueDate: '2026-10-02',
  },
  offence: { category: 'terrorism', confirmsSuspect: true },
  targets: [{ phone: '+441234567890' }],
  timeRange: { from: '2026-06-01', to: '2026-10-01' },
  requestedCategories: ['phone_number', 'ip_addresses'],
} satisfies LegalRequestInput;

/** The eligible request with some top-level fields replaced. */
export const withChanges = (changes: Record<string, unknown>): unknown => ({ ...ELIGIBLE_INPUT, ...changes });

export interface RecordingFacts {
  facts: LegalFacts;
  /** Every question asked, in order ("resolve <value>", "ip <account>"). */
  calls: string[];
}

/**
 * Facts that answer from a table and record every question. A target resolves to `u:<value>`
 * unless its value is in `missing`; `sameAccount` maps values to one shared account; an account has
 * IP records unless it is in `noIps`.
 */
export function recordingFacts(
  options: { missing?: string[]; noIps?: string[]; sameAccount?: string[] } = {},
): RecordingFacts {
  const calls: string[] = [];
  const facts: LegalFacts = {
    resolve: async (target: LegalTarget) => {
      const value = targetValue(target);
      calls.push(`resolve ${value}`);
      if (options.missing?.includes(value)) return undefined;
      return options.sameAccount?.includes(value) ? 'u:shared' : `u:${value}`;
    },
    hasIpRecords: async (accountId: string) => {
      calls.push(`ip ${accountId}`);
      return !options.noIps?.includes(accountId);
    },
  };
  return { facts, calls };
}

/** Changes to the eligible request, for tables of cases. */
export const court = (type: string, issuingCourt = 'A court') => ({
  instrument: { type, issuingCourt, reference: 'ref', issueDate: '2026-01-01' },
});
export const authority = (country: string, kind = 'court') => ({ authority: { name: 'X', kind, country } });
export const asking = (...requestedCategories: string[]) => ({ requestedCategories });
export const offence = (category: string, confirmsSuspect = true) => ({
  offence: { category, confirmsSuspect },
});
export const range = (from: string, to: string) => ({ timeRange: { from, to } });

/** Expected decisions, for tables of cases. */
export type Expected = Record<string, unknown>;
export const eligible = (reasons: string[], disclosable: string[]) => ({
  outcome: 'eligible',
  reasons,
  disclosable,
});
export const rejected = (...reasons: string[]) => ({ outcome: 'rejected', reasons, disclosable: [] });
export const NOT_CONSIDERED = {
  outcome: 'not_considered',
  reasons: ['JURISDICTION_NOT_CONSIDERED'],
  disclosable: [],
};
