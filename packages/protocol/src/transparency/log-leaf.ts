/**
 * The public leaves of the legal-desk log. They carry no personal data: country, outcome, reason
 * codes, counts, categories; a case appears only as a salted commitment.
 */
export type PublicLeaf =
  | { v: 1; type: 'policy'; at: number; policyVersion: string; policyHash: string }
  | {
      v: 1;
      type: 'request';
      at: number;
      case: string;
      country: string;
      instrument: string;
      outcome: 'not_considered' | 'rejected' | 'eligible';
      reasons: string[];
      requested: string[];
      eligible: string[];
      accountsSpecified: number;
      policyVersion: string;
    }
  | { v: 1; type: 'approval'; at: number; case: string; approvals: number }
  | { v: 1; type: 'rejection'; at: number; case: string; reason: string }
  | {
      v: 1;
      type: 'production';
      at: number;
      case: string;
      categories: string[];
      accountsAffected: number;
      packageHash: string;
    }
  /**
   * An account suspended or its suspension lifted by two moderators (issue 12): no account, no
   * staff, no report id; `at` is the start of the UTC day; `reason` is the cited report's reason
   * category from a closed set (SUSPENSION_LEAF_REASONS), `none` when no report was cited.
   */
  | { v: 1; type: 'suspension'; at: number; action: 'suspended' | 'lifted'; reason: string };

/** The only words a suspension leaf's `reason` may carry. */
export const SUSPENSION_LEAF_REASONS = ['spam', 'abuse', 'illegal', 'other', 'none'] as const;

/** A value with object keys sorted at every level: JSON.stringify of it is canonical. */
export const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([k, v]) => [k, canonical(v)]),
        )
      : value;

/** JSON with sorted keys and no spaces: the same bytes for the same value, everywhere. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

/** The exact bytes that are hashed into the log. */
export function encodeLeaf(leaf: PublicLeaf): string {
  return canonicalJson(leaf);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Parses a published leaf; returns undefined for anything that is not a well-formed leaf. */
export function parseLeaf(text: string): PublicLeaf | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (
    !v ||
    typeof v !== 'object' ||
    v.v !== 1 ||
    !isCount(v.at) ||
    encodeLeaf(v as unknown as PublicLeaf) !== text
  )
    return undefined;
  const str = (k: string) => typeof v[k] === 'string';
  switch (v.type) {
    case 'policy':
      return str('policyVersion') && str('policyHash') ? (v as unknown as PublicLeaf) : undefined;
    case 'request':
      return str('case') &&
        str('country') &&
        str('instrument') &&
        ['not_considered', 'rejected', 'eligible'].includes(v.outcome as string) &&
        isStrings(v.reasons) &&
        isStrings(v.requested) &&
        isStrings(v.eligible) &&
        isCount(v.accountsSpecified) &&
        str('policyVersion')
        ? (v as unknown as PublicLeaf)
        : undefined;
    case 'approval':
      return str('case') && isCount(v.approvals) ? (v as unknown as PublicLeaf) : undefined;
    case 'rejection':
      return str('case') && str('reason') ? (v as unknown as PublicLeaf) : undefined;
    case 'production':
      return str('case') && isStrings(v.categories) && isCount(v.accountsAffected) && str('packageHash')
        ? (v as unknown as PublicLeaf)
        : undefined;
    case 'suspension':
      return ['suspended', 'lifted'].includes(v.action as string) &&
        (SUSPENSION_LEAF_REASONS as readonly unknown[]).includes(v.reason)
        ? (v as unknown as PublicLeaf)
        : undefined;
    default:
      return undefined;
  }
}
