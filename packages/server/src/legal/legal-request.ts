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

const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());
const text = (max: number) => z.string().trim().min(1).max(max);

/** A target names one account, by exactly one of user id, phone number or username. */
const target = z.union([
  z.strictObject({ userId: text(64) }),
  z.strictObject({ phone: text(40) }),
  z.strictObject({ username: text(64) }),
]);

/** A request from an authority, as staff or the authority's own account submit it (docs/legal-requests.md). */
export const legalRequestSchema = z.strictObject({
  authority: z.strictObject({
    name: text(200),
    kind: z.enum(AUTHORITY_KINDS),
    country: z
      .string()
      .refine((c) => ISO_COUNTRIES.has(c), { message: 'not an ISO 3166-1 alpha-2 country code' }),
  }),
  instrument: z.strictObject({
    type: z.enum(INSTRUMENT_TYPES),
    issuingCourt: z.string().trim().max(200).default(''),
    reference: text(200),
    issueDate: isoDate,
  }),
  offence: z.strictObject({
    category: text(100),
    confirmsSuspect: z.boolean(),
  }),
  targets: z.array(target).min(1).max(100),
  timeRange: z
    .strictObject({ from: isoDate, to: isoDate })
    .refine((r) => Date.parse(r.from) <= Date.parse(r.to), { message: 'from must not be after to' }),
  requestedCategories: z.array(text(50)).min(1).max(50),
  nonDisclosure: z.strictObject({ until: isoDate }).nullable().default(null),
});

export type LegalRequest = z.infer<typeof legalRequestSchema>;
export type LegalTarget = LegalRequest['targets'][number];

/** A request that does not match the format; `issues` names every problem. */
export class LegalRequestInvalid extends Error {
  override readonly name = 'LegalRequestInvalid';
  constructor(readonly issues: string[]) {
    super(`The legal request is invalid:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  }
}

export function parseLegalRequest(input: unknown): LegalRequest {
  const result = legalRequestSchema.safeParse(input);
  if (!result.success) {
    throw new LegalRequestInvalid(
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}
