/**
 * A legal request as an authority (or staff, for one received by post) submits it; the format is
 * documented in docs/legal-requests.md. Parsing is strict (unknown keys are refused) and normalises
 * what has one meaning written several ways, so the policy engine and the log see one form:
 * country codes upper-case, categories lower-case snake_case without duplicates, the time range as
 * UTC instants (a date alone covers that whole day).
 */
import { z } from 'zod';
import { ISO_COUNTRIES } from './iso-countries.ts';

export const AUTHORITY_KINDS = ['court', 'prosecutor', 'police', 'security_service'] as const;
export const INSTRUMENT_TYPES = [
  'court_order',
  'subpoena',
  'warrant',
  'police_letter',
  'administrative',
  'emergency',
  'informal',
] as const;
export type InstrumentType = (typeof INSTRUMENT_TYPES)[number];

/** ISO 3166-1 alpha-2, accepted in any case and kept upper-case ("ru" is RU, and not considered). */
export const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  .refine((c) => ISO_COUNTRIES.has(c), { message: 'not an ISO 3166-1 alpha-2 country code' });

/** "Phone Number", "phone-number" and "phone_number" are one category. */
export const normalizeCategory = (category: string): string =>
  category
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

const text = (max: number) => z.string().trim().min(1).max(max);
const isoDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error: 'not an ISO 8601 date (2026-06-30) or date-time with a time zone (2026-06-30T12:00:00Z)',
});
const DAY_START = 'T00:00:00.000Z';
const DAY_END = 'T23:59:59.999Z';
/** A date alone means the whole day (UTC): `from` its first millisecond, `to` its last. */
const instant = (dayEdge: string) =>
  isoDate.transform((s) => (s.length === 10 ? `${s}${dayEdge}` : new Date(s).toISOString()));

export type LegalTarget = { userId: string } | { phone: string } | { username: string };

/** A target names one account by exactly one of user id, phone number or username. */
const target = z
  .strictObject({ userId: text(64).optional(), phone: text(40).optional(), username: text(64).optional() })
  .refine((t) => Object.values(t).filter((v) => v !== undefined).length === 1, {
    message: 'a target names exactly one of userId, phone or username',
  })
  .transform(
    (t): LegalTarget =>
      t.userId !== undefined
        ? { userId: t.userId }
        : t.phone !== undefined
          ? { phone: t.phone }
          : { username: t.username ?? '' },
  );

export const legalRequestSchema = z.strictObject({
  authority: z.strictObject({
    name: text(200),
    kind: z.enum(AUTHORITY_KINDS),
    country: countryCode,
  }),
  instrument: z.strictObject({
    type: z.enum(INSTRUMENT_TYPES),
    /** Empty when no court issued it (a subpoena, a police letter…). */
    issuingCourt: z.string().trim().max(200).default(''),
    reference: text(200),
    issueDate: isoDate,
  }),
  offence: z.strictObject({
    category: text(100).transform((c) => c.toLowerCase()),
    confirmsSuspect: z.boolean(),
  }),
  /** May be empty: a request that names no account is a request, refused as NOT_SPECIFIC (and counted). */
  targets: z.array(target).max(100),
  timeRange: z
    .strictObject({ from: instant(DAY_START), to: instant(DAY_END) })
    .refine((r) => r.from <= r.to, { message: 'from must not be after to', path: ['to'] }),
  /** Anything may be asked; only phone_number and ip_addresses can ever be disclosed (P3). */
  requestedCategories: z
    .array(text(50))
    .min(1)
    .max(50)
    .transform((cs) => [...new Set(cs.map(normalizeCategory))]),
  nonDisclosure: z.strictObject({ until: isoDate }).nullable().default(null),
});

export type LegalRequest = z.output<typeof legalRequestSchema>;
/** What a submitter writes: optional fields may be left out. */
export type LegalRequestInput = z.input<typeof legalRequestSchema>;

/** A request that does not match the format; `issues` names every problem ("path: message"). */
export class LegalRequestInvalid extends Error {
  override readonly name = 'LegalRequestInvalid';
  constructor(readonly issues: string[]) {
    super(`The legal request is invalid:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  }
}

/** Validates and normalises a request; throws LegalRequestInvalid (and nothing else) on any input. */
export function parseLegalRequest(input: unknown): LegalRequest {
  const result = legalRequestSchema.safeParse(input);
  if (!result.success) {
    throw new LegalRequestInvalid(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}

/** The identifier a target gives, whichever kind it is. */
export const targetValue = (t: LegalTarget): string =>
  'userId' in t ? t.userId : 'phone' in t ? t.phone : t.username;
