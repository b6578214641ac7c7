/**
 * The disclosure policy as versioned data (DESIGN P9): a new version is a new value, never new code.
 * Whatever a version says, two things are fixed here and not in the data: only phone_number and
 * ip_addresses can ever be disclosable (P3), and a disclosure needs at least two approvers (P6).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@courier/protocol';
import { z } from 'zod';
import { countryCode, INSTRUMENT_TYPES, type InstrumentType, normalizeCategory } from './legal-request.ts';

/** The only data that can ever be disclosed (P3): a closed set, in the types and at run time. */
export const DISCLOSABLE = ['phone_number', 'ip_addresses'] as const;
export type DisclosableCategory = (typeof DISCLOSABLE)[number];
export const isDisclosable = (c: string): c is DisclosableCategory =>
  (DISCLOSABLE as readonly string[]).includes(c);

export interface DisclosurePolicy {
  /** The policy's name; `version` tells its versions apart. */
  readonly id: string;
  readonly version: string;
  /** The day (UTC) the version took effect. */
  readonly effectiveFrom: string;
  /** P5: jurisdictions whose requests are not considered at all (ISO 3166-1 alpha-2). */
  readonly notConsideredJurisdictions: readonly string[];
  /** P1: the instruments that can lead to a disclosure; each must name its issuing court. */
  readonly acceptedInstruments: readonly InstrumentType[];
  /** P2: the offence categories that qualify ('any': every criminal offence). */
  readonly requiredOffenceCategories: readonly string[] | 'any';
  /** P2: whether the order must confirm that the account holder is a suspect. */
  readonly requiresConfirmedSuspect: boolean;
  /** The reason code given when P2 fails, worded for this version's rule. */
  readonly suspectReason: 'NOT_TERROR_SUSPECT' | 'NOT_CRIMINAL_SUSPECT';
  /** P3: what this version may disclose, always a subset of DISCLOSABLE. */
  readonly disclosableCategories: readonly DisclosableCategory[];
  /** P4: categories that are content (or keys) and are never disclosed, named as requests name them. */
  readonly contentCategories: readonly string[];
  /** P10: how long IP connection records are kept, so how far back ip_addresses can reach. */
  readonly ipRetentionMonths: number;
  /** P7: how often the transparency report is published. */
  readonly reportPeriod: 'semiannual' | 'quarterly';
  /** P6: approvals by distinct approvers before anything is produced. */
  readonly approvalsRequired: number;
}

/** A policy file that does not match the format or breaks a fixed rule; `issues` names every problem. */
export class LegalPolicyInvalid extends Error {
  override readonly name = 'LegalPolicyInvalid';
  constructor(readonly issues: string[]) {
    super(`The disclosure policy is invalid:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  }
}

/** Set-valued fields are sorted and deduplicated, so the hash does not depend on how a file lists them. */
const set = <T extends z.ZodType<string>>(item: T) =>
  z.array(item).transform((xs) => [...new Set(xs)].sort() as z.output<T>[]);
const category = z.string().min(1).max(50).transform(normalizeCategory);

const policySchema = z.strictObject({
  id: z.string().trim().min(1).max(100),
  version: z.string().trim().min(1).max(100),
  effectiveFrom: z.iso.date(),
  notConsideredJurisdictions: set(countryCode),
  acceptedInstruments: set(z.enum(INSTRUMENT_TYPES)),
  requiredOffenceCategories: z.union([
    z.literal('any'),
    set(z.string().trim().min(1).max(100).toLowerCase()).refine((xs) => xs.length > 0, {
      message: "list at least one offence category, or write 'any'",
    }),
  ]),
  requiresConfirmedSuspect: z.boolean(),
  suspectReason: z.enum(['NOT_TERROR_SUSPECT', 'NOT_CRIMINAL_SUSPECT']),
  // Anything outside the closed set is refused here, whatever a policy file says (P3).
  disclosableCategories: set(z.enum(DISCLOSABLE)),
  contentCategories: set(category).refine((xs) => !xs.some(isDisclosable), {
    message: 'phone_number and ip_addresses are not content',
  }),
  ipRetentionMonths: z.number().int().min(0).max(120),
  reportPeriod: z.enum(['semiannual', 'quarterly']),
  approvalsRequired: z.number().int().min(2, { message: 'P6: at least two approvers' }).max(10),
});

/** Validates and normalises a policy version; throws LegalPolicyInvalid (and nothing else). */
export function parsePolicy(input: unknown): DisclosurePolicy {
  const result = policySchema.safeParse(input);
  if (!result.success) {
    throw new LegalPolicyInvalid(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Content and keys as authorities ask for them; none is ever disclosed (P4). */
const CONTENT_2018 = [
  'attachments',
  'calls',
  'chat_history',
  'chats',
  'contacts',
  'encryption_keys',
  'files',
  'group_messages',
  'keys',
  'media',
  'message_content',
  'messages',
  'photos',
  'private_keys',
  'videos',
  'voice_messages',
];

/** The 2018 policy Courier ships with (Telegram's of 14 August 2018, made data). */
export const POLICY_2018: DisclosurePolicy = parsePolicy({
  id: 'courier-disclosure',
  version: '2018-08-14',
  effectiveFrom: '2018-08-14',
  notConsideredJurisdictions: ['RU'],
  acceptedInstruments: ['court_order'],
  requiredOffenceCategories: ['terrorism'],
  requiresConfirmedSuspect: true,
  suspectReason: 'NOT_TERROR_SUSPECT',
  disclosableCategories: ['phone_number', 'ip_addresses'],
  contentCategories: CONTENT_2018,
  ipRetentionMonths: 12,
  reportPeriod: 'semiannual',
  approvalsRequired: 2,
});

/** An example later version (2024: any criminal suspect, quarterly reports): a new version is data. */
export const POLICY_2024_EXAMPLE: DisclosurePolicy = parsePolicy({
  ...POLICY_2018,
  version: '2024-09-30',
  effectiveFrom: '2024-09-30',
  requiredOffenceCategories: 'any',
  suspectReason: 'NOT_CRIMINAL_SUSPECT',
  reportPeriod: 'quarterly',
});

/**
 * The canonical form of a version (P9): the validated, normalised policy as JSON with object keys
 * sorted by UTF-16 code unit, no whitespace; set-valued arrays are sorted by parsePolicy. Anyone can
 * recompute it from the published policy.
 */
export function canonicalPolicy(policy: DisclosurePolicy): string {
  return canonicalJson(parsePolicy(policy));
}

/** SHA-256 (hex) of the canonical form: the version's identity in the log and in every decision. */
export function policyHash(policy: DisclosurePolicy): string {
  return createHash('sha256').update(canonicalPolicy(policy), 'utf8').digest('hex');
}
