/**
 * The disclosure policy in force, said in plain words from its data (the canonical JSON whose hash
 * the log holds), with the JSON itself one click away.
 */

/** The fields of a policy version this page reads (packages/server/src/legal/policy.ts). */
export interface PolicyData {
  id: string;
  version: string;
  effectiveFrom: string;
  notConsideredJurisdictions: string[];
  acceptedInstruments: string[];
  requiredOffenceCategories: string[] | 'any';
  requiresConfirmedSuspect: boolean;
  disclosableCategories: string[];
  contentCategories: string[];
  ipRetentionMonths: number;
  reportPeriod: 'semiannual' | 'quarterly';
  approvalsRequired: number;
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The policy from its published text, or null when the text is not a policy this page can read. */
export function readPolicy(text: string | null | undefined): PolicyData | null {
  if (typeof text !== 'string') return null;
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (
    p === null ||
    typeof p !== 'object' ||
    typeof p.id !== 'string' ||
    typeof p.version !== 'string' ||
    typeof p.effectiveFrom !== 'string' ||
    !strings(p.notConsideredJurisdictions) ||
    !strings(p.acceptedInstruments) ||
    !(p.requiredOffenceCategories === 'any' || strings(p.requiredOffenceCategories)) ||
    typeof p.requiresConfirmedSuspect !== 'boolean' ||
    !strings(p.disclosableCategories) ||
    !strings(p.contentCategories) ||
    typeof p.ipRetentionMonths !== 'number' ||
    (p.reportPeriod !== 'semiannual' && p.reportPeriod !== 'quarterly') ||
    typeof p.approvalsRequired !== 'number'
  )
    return null;
  return p as unknown as PolicyData;
}

const INSTRUMENTS: Record<string, string> = {
  court_order: 'a court order',
  subpoena: 'a subpoena',
  warrant: 'a warrant',
  police_letter: 'a letter from the police',
  administrative: 'an administrative order',
  emergency: 'an emergency request',
  informal: 'an informal request',
};
const CATEGORIES: Record<string, string> = {
  phone_number: 'the phone number of the account',
  ip_addresses: 'the IP addresses it connected from',
};

const regions = new Intl.DisplayNames(['en'], { type: 'region' });
/** "Germany (DE)"; the code alone when the browser does not know it. */
export function countryName(code: string): string {
  try {
    const name = regions.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

const list = new Intl.ListFormat('en', { type: 'conjunction' });
const either = new Intl.ListFormat('en', { type: 'disjunction' });
const words = (s: string) => s.replaceAll('_', ' ');

export function PolicyInWords({ text }: { text: string | null | undefined }) {
  const policy = readPolicy(text);
  if (policy === null)
    return (
      <p>No disclosure policy was recorded in the log for this period, so nothing could be disclosed.</p>
    );
  const offences =
    policy.requiredOffenceCategories === 'any'
      ? 'any criminal offence'
      : either.format(policy.requiredOffenceCategories.map(words));
  return (
    <>
      <p>
        Policy <code>{policy.version}</code>, in force since {policy.effectiveFrom}. Under it:
      </p>
      <ul class="policy">
        <li>
          Only {either.format(policy.acceptedInstruments.map((i) => INSTRUMENTS[i] ?? words(i)))} can lead to
          a disclosure, and it must name the court that issued it. Anything else is rejected.
        </li>
        <li>
          It must concern {offences}
          {policy.requiresConfirmedSuspect ? ', and confirm that the account holder is a suspect' : ''}.
        </li>
        {policy.notConsideredJurisdictions.length > 0 && (
          <li>
            Requests from {list.format(policy.notConsideredJurisdictions.map(countryName))} are not considered
            at all: nothing is looked up, they are only counted.
          </li>
        )}
        <li>
          At most {list.format(policy.disclosableCategories.map((c) => CATEGORIES[c] ?? words(c)))} can be
          disclosed
          {policy.disclosableCategories.includes('ip_addresses')
            ? ` (IP addresses are kept for ${policy.ipRetentionMonths} months, so no request can reach further back)`
            : ''}
          .
        </li>
        <li>
          Never disclosed, whatever a request asks for: messages and other content and keys (
          {list.format(policy.contentCategories.map(words))}). Courier cannot read them.
        </li>
        <li>
          Nothing is produced before {policy.approvalsRequired} different staff members have approved the
          request.
        </li>
        <li>
          A report like this one is published every{' '}
          {policy.reportPeriod === 'semiannual' ? 'half year' : 'quarter'}.
        </li>
      </ul>
      <details>
        <summary>The policy as JSON (its SHA-256 is the hash in the log)</summary>
        <pre class="wrap">{JSON.stringify(JSON.parse(text as string), null, 2)}</pre>
      </details>
    </>
  );
}
