import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  asking,
  authority,
  court,
  type Expected,
  eligible,
  NOT_CONSIDERED,
  NOW,
  offence,
  recordingFacts,
  rejected,
  withChanges,
} from './legal-fixtures.ts';
import { parseLegalRequest } from './legal-request.ts';
import {
  canonicalPolicy,
  type DisclosurePolicy,
  LegalPolicyInvalid,
  POLICY_2018,
  POLICY_2024_EXAMPLE,
  parsePolicy,
  policyHash,
} from './policy.ts';
import { evaluate } from './policy-engine.ts';

const docs = (path: string) => readFileSync(new URL(`../../../../docs/${path}`, import.meta.url), 'utf8');

describe('the policy as data', () => {
  it('ships the 2018 policy: RU not considered, court orders, confirmed terror suspects, phone and IPs', () => {
    expect(POLICY_2018).toMatchObject({
      version: '2018-08-14',
      effectiveFrom: '2018-08-14',
      notConsideredJurisdictions: ['RU'],
      acceptedInstruments: ['court_order'],
      requiredOffenceCategories: ['terrorism'],
      requiresConfirmedSuspect: true,
      disclosableCategories: ['ip_addresses', 'phone_number'],
      ipRetentionMonths: 12,
      reportPeriod: 'semiannual',
      approvalsRequired: 2,
    });
    expect(POLICY_2018.contentCategories).toEqual(
      expect.arrayContaining(['messages', 'media', 'contacts', 'keys']),
    );
    expect(Object.isFrozen(POLICY_2018.notConsideredJurisdictions)).toBe(true);
  });

  it('is documented exactly as shipped, and the 2024 example file is the 2024 example', () => {
    const block = /## The 2018 policy, as data[\s\S]*?```json\n([\s\S]*?)```/.exec(docs('legal-requests.md'));
    expect(JSON.parse(block?.[1] ?? 'null')).toEqual(POLICY_2018);
    expect(parsePolicy(JSON.parse(docs('examples/policy-2024.json')))).toEqual(POLICY_2024_EXAMPLE);
  });

  it('is identified by the SHA-256 of its canonical JSON (pinned: changing the 2018 policy must be deliberate)', () => {
    expect(canonicalPolicy(POLICY_2018)).toMatch(
      /^\{"acceptedInstruments":\["court_order"\],"approvalsRequired":2,/,
    );
    expect(policyHash(POLICY_2018)).toBe('eef160e357f9c52d7d8c0c4e2730d527677f8ef036f6f6e27c28d9c30e1065ed');
    expect(policyHash(POLICY_2024_EXAMPLE)).not.toBe(policyHash(POLICY_2018));
  });

  it('hashes the same policy the same way however a file orders or spells its sets', () => {
    const sets = [
      'notConsideredJurisdictions',
      'acceptedInstruments',
      'disclosableCategories',
      'contentCategories',
    ] as const;
    fc.assert(
      fc.property(fc.shuffledSubarray([...sets]), fc.boolean(), (shuffled, lower) => {
        const variant: Record<string, unknown> = JSON.parse(JSON.stringify(POLICY_2018));
        for (const key of shuffled)
          variant[key] = [...(variant[key] as string[])]
            .reverse()
            .concat((variant[key] as string[]).slice(0, 1));
        if (lower) variant.notConsideredJurisdictions = ['ru'];
        expect(policyHash(parsePolicy(variant))).toBe(policyHash(POLICY_2018));
      }),
    );
  });

  it.each([
    [
      'messages as disclosable (P3)',
      { disclosableCategories: ['phone_number', 'messages'] },
      'disclosableCategories.1',
    ],
    ['one approver (P6)', { approvalsRequired: 1 }, 'approvalsRequired'],
    [
      'a country that is not ISO 3166-1',
      { notConsideredJurisdictions: ['XX'] },
      'notConsideredJurisdictions.0',
    ],
    ['phone numbers as content', { contentCategories: ['messages', 'phone_number'] }, 'contentCategories'],
    ['an unknown instrument', { acceptedInstruments: ['fax'] }, 'acceptedInstruments.0'],
    ['no offence listed', { requiredOffenceCategories: [] }, 'requiredOffenceCategories'],
    ['an unknown key', { discloseEverything: true }, '(root)'],
    ['a bad date', { effectiveFrom: '2018-02-30' }, 'effectiveFrom'],
  ])('refuses %s', (_what, change, path) => {
    const attempt = () => parsePolicy({ ...POLICY_2018, ...change });
    expect(attempt).toThrow(LegalPolicyInvalid);
    expect(attempt).toThrow(new RegExp(`^\\s+${path.replace(/[.()]/g, '\\$&')}:`, 'm'));
  });

  it('throws nothing but LegalPolicyInvalid on any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...Object.keys(POLICY_2018)), (value, key) => {
        for (const input of [value, { ...POLICY_2018, [key]: value }]) {
          try {
            parsePolicy(input);
          } catch (error) {
            expect(error).toBeInstanceOf(LegalPolicyInvalid);
          }
        }
      }),
    );
  });
});
describe('a new policy version is data, not code', () => {
  const policy = (changes: Partial<Record<keyof DisclosurePolicy, unknown>>) =>
    parsePolicy({ ...POLICY_2018, version: 'test', ...changes });
  const VERSIONS: [string, DisclosurePolicy, Record<string, unknown>, Expected | Record<string, unknown>][] =
    [
      [
        '2024: a fraud suspect',
        POLICY_2024_EXAMPLE,
        offence('fraud'),
        eligible([], ['phone_number', 'ip_addresses']),
      ],
      [
        '2024: fraud, suspect not confirmed',
        POLICY_2024_EXAMPLE,
        offence('fraud', false),
        rejected('NOT_CRIMINAL_SUSPECT'),
      ],
      ['2024: RU is still not considered', POLICY_2024_EXAMPLE, authority('RU'), NOT_CONSIDERED],
      [
        '2024: messages are still never disclosed',
        POLICY_2024_EXAMPLE,
        asking('messages'),
        rejected('CONTENT_NEVER_DISCLOSED'),
      ],
      [
        'BY added to the list',
        policy({ notConsideredJurisdictions: ['RU', 'by'] }),
        authority('BY'),
        NOT_CONSIDERED,
      ],
      [
        'warrants accepted',
        policy({ acceptedInstruments: ['court_order', 'warrant'] }),
        court('warrant'),
        eligible([], ['phone_number', 'ip_addresses']),
      ],
      [
        'phone numbers only',
        policy({ disclosableCategories: ['phone_number'] }),
        {},
        eligible(['CATEGORY_NOT_DISCLOSABLE'], ['phone_number']),
      ],
      [
        'IP addresses never stored',
        policy({ ipRetentionMonths: 0 }),
        {},
        eligible(['NO_DATA_RETAINED'], ['phone_number']),
      ],
    ];
  it.each(VERSIONS)('%s', async (_what, version, changes, expected) => {
    const decision = await evaluate(
      parseLegalRequest(withChanges(changes)),
      version,
      recordingFacts().facts,
      NOW,
    );
    expect(decision).toMatchObject({
      ...expected,
      policyVersion: version.version,
      policyHash: policyHash(version),
    });
  });
});
