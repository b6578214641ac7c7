import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISO_COUNTRIES } from './iso-countries.ts';
import {
  INSTRUMENT_TYPES,
  type LegalRequest,
  LegalRequestInvalid,
  parseLegalRequest,
} from './legal-request.ts';
import { POLICY_2018, POLICY_2024_EXAMPLE, parsePolicy, policyHash } from './policy.ts';
import { evaluate, type LegalFacts } from './policy-engine.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const NOW = Date.parse('2026-11-01T00:00:00Z');

const base = (): LegalRequest =>
  parseLegalRequest({
    authority: { name: 'Amtsgericht', kind: 'court', country: 'DE' },
    instrument: {
      type: 'court_order',
      issuingCourt: 'Amtsgericht',
      reference: 'r1',
      issueDate: '2026-10-01',
    },
    offence: { category: 'terrorism', confirmsSuspect: true },
    targets: [{ phone: '+441234567890' }],
    timeRange: { from: '2026-06-01', to: '2026-10-01' },
    requestedCategories: ['phone_number', 'ip_addresses'],
  });

/** Facts where every target exists and has IP records, counting every question. */
function facts(overrides: Partial<LegalFacts> = {}) {
  const asked = { resolve: 0, ip: 0 };
  const value: LegalFacts = {
    resolve: async (t) => {
      asked.resolve += 1;
      return overrides.resolve ? overrides.resolve(t) : 'u_account';
    },
    hasIpRecords: async (a, f, t) => {
      asked.ip += 1;
      return overrides.hasIpRecords ? overrides.hasIpRecords(a, f, t) : true;
    },
  };
  return { value, asked };
}

describe('the 2018 policy', () => {
  it('makes a terrorism court order with a confirmed suspect eligible for phone and IPs', async () => {
    const d = await evaluate(base(), POLICY_2018, facts().value, NOW);
    expect(d).toMatchObject({
      outcome: 'eligible',
      reasons: [],
      disclosable: ['phone_number', 'ip_addresses'],
      accounts: ['u_account'],
    });
    expect(d.policyHash).toBe(policyHash(POLICY_2018));
  });

  it('does not consider a request from RU, whatever it says, and looks nothing up', async () => {
    const f = facts();
    const r = { ...base(), authority: { name: 'FSB', kind: 'security_service' as const, country: 'RU' } };
    expect(await evaluate(r, POLICY_2018, f.value, NOW)).toMatchObject({
      outcome: 'not_considered',
      reasons: ['JURISDICTION_NOT_CONSIDERED'],
    });
    expect(f.asked).toEqual({ resolve: 0, ip: 0 });
  });

  it.each([
    [
      'a subpoena',
      { instrument: { type: 'subpoena', issuingCourt: '', reference: 'x', issueDate: '2026-01-01' } },
      ['LEGAL_PROCESS_INSUFFICIENT'],
    ],
    [
      'a police letter',
      { instrument: { type: 'police_letter', issuingCourt: 'x', reference: 'x', issueDate: '2026-01-01' } },
      ['LEGAL_PROCESS_INSUFFICIENT'],
    ],
    ['fraud', { offence: { category: 'fraud', confirmsSuspect: true } }, ['NOT_TERROR_SUSPECT']],
    [
      'an unconfirmed suspect',
      { offence: { category: 'terrorism', confirmsSuspect: false } },
      ['NOT_TERROR_SUSPECT'],
    ],
    ['all users', { targets: [{ username: 'all' }] }, ['NOT_SPECIFIC']],
    ['a wildcard', { targets: [{ phone: '+44*' }] }, ['NOT_SPECIFIC']],
    ['keys only', { requestedCategories: ['keys'] }, ['CONTENT_NEVER_DISCLOSED']],
    [
      'everything wrong at once',
      {
        instrument: { type: 'informal', issuingCourt: '', reference: 'x', issueDate: '2026-01-01' },
        offence: { category: 'tax', confirmsSuspect: false },
        requestedCategories: ['messages'],
      },
      ['LEGAL_PROCESS_INSUFFICIENT', 'NOT_TERROR_SUSPECT', 'CONTENT_NEVER_DISCLOSED'],
    ],
  ])('rejects %s, with every reason and no lookup', async (_what, change, reasons) => {
    const f = facts();
    const d = await evaluate({ ...base(), ...(change as Partial<LegalRequest>) }, POLICY_2018, f.value, NOW);
    expect(d).toMatchObject({ outcome: 'rejected', reasons, disclosable: [] });
    expect(f.asked.resolve).toBe(0);
  });

  it('removes content from an eligible request and says so', async () => {
    const d = await evaluate(
      { ...base(), requestedCategories: ['messages', 'phone_number', 'media'] },
      POLICY_2018,
      facts().value,
      NOW,
    );
    expect(d).toMatchObject({
      outcome: 'eligible',
      reasons: ['CONTENT_NEVER_DISCLOSED'],
      disclosable: ['phone_number'],
    });
  });

  it('checks facts last: unknown targets and data outside retention', async () => {
    expect(
      await evaluate(base(), POLICY_2018, facts({ resolve: async () => undefined }).value, NOW),
    ).toMatchObject({
      outcome: 'rejected',
      reasons: ['TARGET_NOT_FOUND'],
    });
    const noIps = facts({ hasIpRecords: async () => false });
    expect(await evaluate(base(), POLICY_2018, noIps.value, NOW)).toMatchObject({
      outcome: 'eligible',
      reasons: ['NO_DATA_RETAINED'],
      disclosable: ['phone_number'],
    });
    const old = {
      ...base(),
      timeRange: { from: '2020-01-01', to: '2020-12-31' },
      requestedCategories: ['ip_addresses'],
    };
    const f = facts();
    expect(await evaluate(old, POLICY_2018, f.value, NOW)).toMatchObject({
      outcome: 'rejected',
      reasons: ['NO_DATA_RETAINED'],
    });
    expect(f.asked.ip).toBe(0);
  });

  it('a later policy version is data: any criminal suspect qualifies under 2024', async () => {
    const fraud = { ...base(), offence: { category: 'fraud', confirmsSuspect: true } };
    expect((await evaluate(fraud, POLICY_2018, facts().value, NOW)).outcome).toBe('rejected');
    expect((await evaluate(fraud, POLICY_2024_EXAMPLE, facts().value, NOW)).outcome).toBe('eligible');
    expect(policyHash(POLICY_2024_EXAMPLE)).not.toBe(policyHash(POLICY_2018));
    expect(() => parsePolicy({ ...POLICY_2018, disclosableCategories: ['messages'] })).toThrow(
      /disclosableCategories/,
    );
    expect(() => parsePolicy({ ...POLICY_2018, approvalsRequired: 1 })).toThrow(/approvalsRequired/);
    expect(parsePolicy(JSON.parse(JSON.stringify(POLICY_2024_EXAMPLE)))).toEqual(POLICY_2024_EXAMPLE);
  });
});

const arbitraryRequest = fc.record({
  authority: fc.record({
    name: fc.constant('Some authority'),
    kind: fc.constantFrom('court', 'prosecutor', 'police', 'security_service'),
    country: fc.constantFrom(...[...ISO_COUNTRIES].slice(0, 40), 'RU'),
  }),
  instrument: fc.record({
    type: fc.constantFrom(...INSTRUMENT_TYPES),
    issuingCourt: fc.constantFrom('', 'A court'),
    reference: fc.constant('ref'),
    issueDate: fc.constant('2026-01-01'),
  }),
  offence: fc.record({
    category: fc.constantFrom('terrorism', 'fraud', 'tax'),
    confirmsSuspect: fc.boolean(),
  }),
  targets: fc.array(
    fc.oneof(
      fc.record({ phone: fc.constantFrom('+441234567890', '*') }),
      fc.record({ username: fc.constantFrom('alice_1', 'all') }),
    ),
    { minLength: 1, maxLength: 3 },
  ),
  timeRange: fc.constant({ from: '2026-01-01', to: '2026-06-01' }),
  requestedCategories: fc.array(
    fc.constantFrom('phone_number', 'ip_addresses', 'messages', 'media', 'contacts', 'keys', 'location'),
    { minLength: 1, maxLength: 5 },
  ),
});

describe('the policy engine (properties)', () => {
  it('never discloses outside {phone_number, ip_addresses}, never considers RU, and is deterministic', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryRequest, fc.boolean(), async (input, withFacts) => {
        const request = parseLegalRequest(input);
        const f = facts();
        const d = await evaluate(request, POLICY_2018, withFacts ? f.value : undefined, NOW);
        for (const c of d.disclosable) expect(['phone_number', 'ip_addresses']).toContain(c);
        if (request.authority.country === 'RU') {
          expect(d.outcome).toBe('not_considered');
          expect(f.asked).toEqual({ resolve: 0, ip: 0 });
        }
        if (d.outcome === 'eligible') {
          expect(request.instrument.type).toBe('court_order');
          expect(request.offence).toEqual({ category: 'terrorism', confirmsSuspect: true });
        }
        expect(await evaluate(request, POLICY_2018, withFacts ? facts().value : undefined, NOW)).toEqual(d);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses malformed requests with the list of problems, never anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseLegalRequest(value);
        } catch (error) {
          expect(error).toBeInstanceOf(LegalRequestInvalid);
          expect((error as LegalRequestInvalid).issues.length).toBeGreaterThan(0);
        }
      }),
    );
    expect(() =>
      parseLegalRequest({ ...base(), authority: { name: 'x', kind: 'court', country: 'XX' } }),
    ).toThrow(/ISO 3166/);
    expect(() => parseLegalRequest({ ...base(), extra: 1 })).toThrow(LegalRequestInvalid);
    expect(() =>
      parseLegalRequest({ ...base(), timeRange: { from: '2026-02-01', to: '2026-01-01' } }),
    ).toThrow(/from must not be after to/);
    expect(ISO_COUNTRIES.size).toBe(249);
  });
});

describe('courier-server legal evaluate', () => {
  const run = async (file: string) => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'packages/server/src/main.ts', 'legal', 'evaluate', file],
      { cwd: root },
    );
    return JSON.parse(stdout);
  };

  it('prints the decision for each documented example, storing nothing', async () => {
    const [de, ru, us, bulk] = await Promise.all(
      ['court-order-terrorism-de', 'security-service-ru', 'subpoena-fraud-us', 'bulk-keys-fr'].map((n) =>
        run(`docs/examples/${n}.json`),
      ),
    );
    expect(de).toMatchObject({
      outcome: 'eligible',
      reasons: ['CONTENT_NEVER_DISCLOSED'],
      disclosable: ['phone_number', 'ip_addresses'],
      factsChecked: false,
    });
    expect(ru).toMatchObject({ outcome: 'not_considered', reasons: ['JURISDICTION_NOT_CONSIDERED'] });
    expect(us).toMatchObject({
      outcome: 'rejected',
      reasons: ['LEGAL_PROCESS_INSUFFICIENT', 'NOT_TERROR_SUSPECT'],
    });
    expect(bulk).toMatchObject({ outcome: 'rejected', reasons: ['NOT_SPECIFIC', 'CONTENT_NEVER_DISCLOSED'] });
    expect(
      JSON.parse(readFileSync(`${root}docs/examples/court-order-terrorism-de.json`, 'utf8')).targets,
    ).toHaveLength(1);
  });
});
