/**
 * The new-request form's state and its validation by the server's own parser
 * (`legalRequestSchema`, docs/legal-requests.md): what the form accepts is exactly what the desk
 * accepts, and each problem is shown beside its field.
 */
import {
  AUTHORITY_KINDS,
  INSTRUMENT_TYPES,
  type LegalRequestInput,
  legalRequestSchema,
} from '@courier/server/legal-request';

export { AUTHORITY_KINDS, INSTRUMENT_TYPES };

export const TARGET_KINDS = ['phone', 'username', 'userId'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** Categories offered as boxes; anything else may be typed (only the first two can ever be disclosed). */
export const COMMON_CATEGORIES = ['phone_number', 'ip_addresses', 'messages', 'media', 'contacts'] as const;

export interface RequestFormState {
  authorityName: string;
  authorityKind: string;
  country: string;
  instrumentType: string;
  issuingCourt: string;
  reference: string;
  issueDate: string;
  offenceCategory: string;
  confirmsSuspect: boolean;
  targets: { kind: TargetKind; value: string }[];
  from: string;
  to: string;
  categories: string[];
  otherCategories: string;
  nonDisclosureUntil: string;
}

export const emptyForm = (today: string): RequestFormState => ({
  authorityName: '',
  authorityKind: 'court',
  country: '',
  instrumentType: 'court_order',
  issuingCourt: '',
  reference: '',
  issueDate: today,
  offenceCategory: '',
  confirmsSuspect: false,
  targets: [{ kind: 'phone', value: '' }],
  from: '',
  to: '',
  categories: [],
  otherCategories: '',
  nonDisclosureUntil: '',
});

/** The request the form describes, in the documented format. */
export function requestOf(state: RequestFormState): LegalRequestInput {
  const other = state.otherCategories
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  return {
    authority: { name: state.authorityName, kind: state.authorityKind as never, country: state.country },
    instrument: {
      type: state.instrumentType as never,
      issuingCourt: state.issuingCourt,
      reference: state.reference,
      issueDate: state.issueDate,
    },
    offence: { category: state.offenceCategory, confirmsSuspect: state.confirmsSuspect },
    targets: state.targets.map((t) => ({ [t.kind]: t.value.trim() })),
    timeRange: { from: state.from, to: state.to },
    requestedCategories: [...state.categories, ...other],
    nonDisclosure: state.nonDisclosureUntil === '' ? null : { until: state.nonDisclosureUntil },
  };
}

/** Which form field a parser issue path belongs to (the id of its input). */
export function fieldOf(path: readonly PropertyKey[]): string {
  const [a, b, c] = path.map(String);
  if (a === 'authority')
    return b === 'kind' ? 'authorityKind' : b === 'country' ? 'country' : 'authorityName';
  if (a === 'instrument')
    return b === 'type'
      ? 'instrumentType'
      : b === 'issuingCourt'
        ? 'issuingCourt'
        : b === 'issueDate'
          ? 'issueDate'
          : 'reference';
  if (a === 'offence') return b === 'confirmsSuspect' ? 'confirmsSuspect' : 'offenceCategory';
  if (a === 'targets') return b === undefined ? 'targets' : `target-${b}`;
  if (a === 'timeRange') return b === 'from' ? 'from' : 'to';
  if (a === 'requestedCategories') return 'categories';
  if (a === 'nonDisclosure') return 'nonDisclosureUntil';
  return c ?? 'form';
}

/** The form checked as the desk will check it: the request, or the problems by field. */
export function validateForm(
  state: RequestFormState,
): { ok: true; request: LegalRequestInput } | { ok: false; issues: Record<string, string> } {
  const request = requestOf(state);
  const result = legalRequestSchema.safeParse(request);
  if (result.success) return { ok: true, request };
  const issues: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = fieldOf(issue.path);
    issues[field] ??=
      issue.code === 'too_small'
        ? field === 'categories'
          ? 'choose or type at least one category'
          : 'required'
        : issue.message;
  }
  return { ok: false, issues };
}
