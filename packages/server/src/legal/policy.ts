import { createHash } from 'node:crypto';
import { canonicalJson } from '@courier/protocol';
import { z } from 'zod';
import { INSTRUMENT_TYPES } from './legal-request.ts';

const INSTRUMENT_TYPE_VALUES = INSTRUMENT_TYPES;

/** The only data that can ever be disclosed (P3): a closed set, in the types and at run time. */
export const DISCLOSABLE = ['phone_number', 'ip_addresses'] as const;
export type DisclosableCategory = (typeof DISCLOSABLE)[number];
export const isDisclosable = (c: string): c is DisclosableCategory =>
  (DISCLOSABLE as readonly string[]).includes(c);

/** A version of the disclosure policy: data, hashed into the log when it changes (P9). */
export interface DisclosurePolicy {
  id: string;
  version: string;
  effectiveFrom: string;
  /** Jurisdictions whose requests are not considered at all (P5). */
  notConsideredJurisdictions: string[];
  /** Instruments that can lead to a disclosure (P1). */
  acceptedInstruments: (typeof INSTRUMENT_TYPES)[number][];
  /** Offence categories that qualify, and whether the order must confirm the target is a suspect (P2). */
  offenceCategories: string[] | 'any';
  requiresConfirmedSuspect: boolean;
  /** The reason code when the offence does not qualify. */
  suspectReason: 'NOT_TERROR_SUSPECT' | 'NOT_CRIMINAL_SUSPECT';
  /** What may be disclosed: always a subset of DISCLOSABLE (P3). */
  disclosableCategories: DisclosableCategory[];
  /** How long IP connection records exist (P10). */
  ipRetentionMonths: number;
  reportPeriod: 'semiannual' | 'quarterly';
  /** Approvals by distinct approvers before production (P6). */
  approvalsRequired: number;
}

/** The 2018 policy Courier ships with (Telegram's of August 2018, made code). */
export const POLICY_2018: DisclosurePolicy = {
  id: 'courier-disclosure',
  version: '2018-08-14',
  effectiveFrom: '2018-08-14',
  notConsideredJurisdictions: ['RU'],
  acceptedInstruments: ['court_order'],
  offenceCategories: ['terrorism'],
  requiresConfirmedSuspect: true,
  suspectReason: 'NOT_TERROR_SUSPECT',
  disclosableCategories: ['phone_number', 'ip_addresses'],
  ipRetentionMonths: 12,
  reportPeriod: 'semiannual',
  approvalsRequired: 2,
};

/** An example later version (2024: any criminal suspect, quarterly reports): a new version is data, not code. */
export const POLICY_2024_EXAMPLE: DisclosurePolicy = {
  ...POLICY_2018,
  version: '2024-09-30',
  effectiveFrom: '2024-09-30',
  offenceCategories: 'any',
  suspectReason: 'NOT_CRIMINAL_SUSPECT',
  reportPeriod: 'quarterly',
};

/** Canonical JSON (keys sorted) and its SHA-256: the policy's identity in the log. */
export function canonicalPolicy(policy: DisclosurePolicy): string {
  return canonicalJson(policy);
}

export function policyHash(policy: DisclosurePolicy): string {
  return createHash('sha256').update(canonicalPolicy(policy)).digest('hex');
}

const policySchema = z.strictObject({
  id: z.string().min(1),
  version: z.string().min(1),
  effectiveFrom: z.iso.date(),
  notConsideredJurisdictions: z.array(z.string().length(2)),
  acceptedInstruments: z.array(z.enum(INSTRUMENT_TYPE_VALUES)).min(1),
  offenceCategories: z.union([z.literal('any'), z.array(z.string().min(1)).min(1)]),
  requiresConfirmedSuspect: z.boolean(),
  suspectReason: z.enum(['NOT_TERROR_SUSPECT', 'NOT_CRIMINAL_SUSPECT']),
  // Anything outside the closed set is refused here, whatever a policy file says (P3).
  disclosableCategories: z.array(z.enum(DISCLOSABLE)),
  ipRetentionMonths: z.number().int().min(0).max(120),
  reportPeriod: z.enum(['semiannual', 'quarterly']),
  approvalsRequired: z.number().int().min(2),
});

/** Reads a policy version from JSON; P3 and the two-person rule (P6) hold for every version. */
export function parsePolicy(input: unknown): DisclosurePolicy {
  const result = policySchema.safeParse(input);
  if (!result.success) {
    throw new Error(
      `Invalid disclosure policy:\n${result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  return result.data;
}
