import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISO_COUNTRIES } from './iso-countries.ts';
import { NOW, recordingFacts } from './legal-fixtures.ts';
import { INSTRUMENT_TYPES, type LegalRequest, parseLegalRequest } from './legal-request.ts';
import {
  DISCLOSABLE,
  type DisclosurePolicy,
  POLICY_2018,
  POLICY_2024_EXAMPLE,
  parsePolicy,
} from './policy.ts';
import { evaluate, REASON_CODES } from './policy-engine.ts';

const COUNTRIES = [...ISO_COUNTRIES];
const country = fc.constantFrom(...COUNTRIES).chain((c) => fc.constantFrom(c, c.toLowerCase(), ` ${c} `));
const CATEGORIES = [
  'phone_number',
  'ip_addresses',
  'messages',
  'media',
  'contacts',
  'keys',
  'location',
  'Phone Number',
];
const day = fc
  .integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2030, 0, 1) })
  .map((t) => new Date(t).toISOString());
const identifier = fc.oneof(
  fc.constantFrom(
    '+441234567890',
    '+12025550143',
    'alice_1',
    'u_123',
    '*',
    'all',
    'All Users',
    '+44*',
    '+44',
    '%',
  ),
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ''),
);
const target = fc.oneof(
  identifier.map((userId) => ({ userId })),
  identifier.map((phone) => ({ phone })),
  identifier.map((username) => ({ username })),
);

/** Any valid request: every field drawn from realistic values and arbitrary strings. */
const anyRequest = fc
  .record({
    authority: fc.record({
      name: fc.constant('An authority'),
      kind: fc.constantFrom('court', 'prosecutor', 'police', 'security_service'),
      country,
    }),
    instrument: fc.record({
      type: fc.constantFrom(...INSTRUMENT_TYPES),
      issuingCourt: fc.constantFrom('', ' ', 'A court'),
      reference: fc.constant('ref'),
      issueDate: fc.constant('2026-01-01'),
    }),
    offence: fc.record({
      category: fc.constantFrom('terrorism', 'Terrorism', 'fraud', 'tax', 'x'),
      confirmsSuspect: fc.boolean(),
    }),
    targets: fc.array(target, { maxLength: 4 }),
    timeRange: fc.tuple(day, day).map(([a, b]) => (a <= b ? { from: a, to: b } : { from: b, to: a })),
    requestedCategories: fc.array(
      fc.oneof(
        fc.constantFrom(...CATEGORIES),
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== ''),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map((input) => parseLegalRequest(input));

/** Any valid policy version, the shipped ones among them. */
const anyPolicy: fc.Arbitrary<DisclosurePolicy> = fc.oneof(
  fc.constantFrom(POLICY_2018, POLICY_2024_EXAMPLE),
  fc
    .record({
      notConsideredJurisdictions: fc.subarray(COUNTRIES.slice(0, 30).concat('RU')),
      acceptedInstruments: fc.subarray([...INSTRUMENT_TYPES]),
      requiredOffenceCategories: fc.oneof(
        fc.constant('any'),
        fc.subarray(['terrorism', 'fraud'], { minLength: 1 }),
      ),
      requiresConfirmedSuspect: fc.boolean(),
      disclosableCategories: fc.subarray([...DISCLOSABLE]),
      ipRetentionMonths: fc.integer({ min: 0, max: 120 }),
    })
    .map((changes) => parsePolicy({ ...POLICY_2018, version: 'generated', ...changes })),
);

/** Facts with arbitrary (but fixed per run) answers. */
const anyFacts = fc.record({
  missing: fc.subarray(['+441234567890', 'alice_1', 'u_123']),
  noIps: fc.subarray(['u:+441234567890', 'u:alice_1', 'u:u_123']),
});

const NARROWING = [
  'CONTENT_NEVER_DISCLOSED',
  'CATEGORY_NOT_DISCLOSABLE',
  'TARGET_NOT_FOUND',
  'NO_DATA_RETAINED',
];

describe('the policy engine, for any request and any policy version', () => {
  it('discloses only phone_number and ip_addresses, only what was asked and allowed, only when eligible', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyRequest,
        anyPolicy,
        anyFacts,
        fc.boolean(),
        async (request, policy, table, withFacts) => {
          const { facts } = recordingFacts(table);
          const d = await evaluate(request, policy, withFacts ? facts : undefined, NOW);
          for (const c of d.disclosable) {
            expect(DISCLOSABLE).toContain(c);
            expect(request.requestedCategories).toContain(c);
            expect(policy.disclosableCategories).toContain(c);
          }
          if (d.outcome !== 'eligible') expect(d.disclosable).toEqual([]);
          else expect(d.disclosable.length).toBeGreaterThan(0);
          for (const c of request.requestedCategories.filter((c) => policy.contentCategories.includes(c)))
            expect(d.outcome === 'not_considered' || d.withheld.some((w) => w.category === c)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never consults the facts unless every rule allows the request', async () => {
    await fc.assert(
      fc.asyncProperty(anyRequest, anyPolicy, anyFacts, async (request, policy, table) => {
        const { facts, calls } = recordingFacts(table);
        const d = await evaluate(request, policy, facts, NOW);
        expect(calls.length === 0).toBe(d.facts === 'not_consulted');
        if (d.outcome === 'not_considered') expect(calls).toEqual([]);
        if (d.outcome === 'eligible') {
          expect(policy.acceptedInstruments).toContain(request.instrument.type);
          expect(request.targets.length).toBeGreaterThan(0);
          expect(d.accounts.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never makes a request from a not-considered country eligible, whatever else it says', async () => {
    const case_ = anyPolicy
      .filter((p) => p.notConsideredJurisdictions.length > 0)
      .chain((policy) =>
        fc.record({
          policy: fc.constant(policy),
          country: fc
            .constantFrom(...policy.notConsideredJurisdictions)
            .chain((c) => fc.constantFrom(c, c.toLowerCase(), ` ${c} `)),
          request: anyRequest,
          table: anyFacts,
        }),
      );
    await fc.assert(
      fc.asyncProperty(case_, async ({ policy, country, request, table }) => {
        const { facts, calls } = recordingFacts(table);
        const fromThere: LegalRequest = parseLegalRequest({
          ...request,
          authority: { ...request.authority, country },
        });
        expect(await evaluate(fromThere, policy, facts, NOW)).toMatchObject({
          outcome: 'not_considered',
          reasons: ['JURISDICTION_NOT_CONSIDERED'],
          disclosable: [],
          facts: 'not_consulted',
        });
        expect(calls).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic, lists reasons in rule order, and narrows only for narrowing reasons', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyRequest,
        anyPolicy,
        anyFacts,
        fc.boolean(),
        async (request, policy, table, withFacts) => {
          const first = recordingFacts(table);
          const second = recordingFacts(table);
          const d = await evaluate(request, policy, withFacts ? first.facts : undefined, NOW);
          expect(await evaluate(request, policy, withFacts ? second.facts : undefined, NOW)).toEqual(d);
          expect(second.calls).toEqual(first.calls);
          expect(d.reasons).toEqual(REASON_CODES.filter((r) => d.reasons.includes(r)));
          if (d.outcome === 'eligible') for (const r of d.reasons) expect(NARROWING).toContain(r);
          else expect(d.reasons.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });
});
