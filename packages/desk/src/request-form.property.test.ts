/**
 * The new-request form checks what is typed with the desk's own parser: whatever the form holds,
 * it calls a request valid exactly when the server's parser accepts it, and it names a field for
 * every problem. The queue's filters keep exactly the cases that match every filter.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLegalRequest } from '@courier/server/legal-request';
import type { CaseSummary } from './api.ts';
import { AGES, filterCases, OUTCOMES } from './queue-filter.ts';
import {
  AUTHORITY_KINDS,
  COMMON_CATEGORIES,
  INSTRUMENT_TYPES,
  type RequestFormState,
  requestOf,
  TARGET_KINDS,
  validateForm,
} from './request-form.ts';

const date = fc.oneof(
  fc
    .date({ min: new Date('2000-01-01'), max: new Date('2040-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom('', '2026-13-01', '01/02/2026', '2026-06-30T12:00:00+02:00', ' '),
);
const words = fc.oneof(
  fc.constantFrom('', ' ', 'Landgericht', 'x'.repeat(201)),
  fc.string({ maxLength: 30 }),
);

const formState: fc.Arbitrary<RequestFormState> = fc.record({
  authorityName: words,
  authorityKind: fc.constantFrom(...AUTHORITY_KINDS, 'army', ''),
  country: fc.constantFrom('DE', 'de', 'FR', 'UK', 'EU', '', 'XX', ' ru '),
  instrumentType: fc.constantFrom(...INSTRUMENT_TYPES, 'letter', ''),
  issuingCourt: words,
  reference: words,
  issueDate: date,
  offenceCategory: words,
  confirmsSuspect: fc.boolean(),
  targets: fc.array(fc.record({ kind: fc.constantFrom(...TARGET_KINDS), value: words }), { maxLength: 4 }),
  from: date,
  to: date,
  categories: fc.subarray([...COMMON_CATEGORIES]),
  otherCategories: fc.oneof(fc.constantFrom('', 'keys, Contacts', ' , '), fc.string({ maxLength: 20 })),
  nonDisclosureUntil: fc.oneof(fc.constant(''), date),
});

const FIELDS = new Set([
  'authorityName',
  'authorityKind',
  'country',
  'instrumentType',
  'issuingCourt',
  'reference',
  'issueDate',
  'offenceCategory',
  'confirmsSuspect',
  'targets',
  'from',
  'to',
  'categories',
  'nonDisclosureUntil',
]);

describe('the new-request form', () => {
  it('accepts exactly what the desk parser accepts, and places every problem at a field', () => {
    fc.assert(
      fc.property(formState, (state) => {
        const checked = validateForm(state);
        let parsed = true;
        try {
          parseLegalRequest(requestOf(state));
        } catch {
          parsed = false;
        }
        expect(checked.ok).toBe(parsed);
        if (!checked.ok) {
          expect(Object.keys(checked.issues).length).toBeGreaterThan(0);
          for (const field of Object.keys(checked.issues))
            expect(FIELDS.has(field) || /^target-\d+$/.test(field), field).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('builds the documented request from a filled-in form', () => {
    const checked = validateForm({
      authorityName: 'Landgericht Berlin',
      authorityKind: 'court',
      country: 'de',
      instrumentType: 'court_order',
      issuingCourt: 'Landgericht Berlin',
      reference: 'LG 1/26',
      issueDate: '2026-01-02',
      offenceCategory: 'Terrorism',
      confirmsSuspect: true,
      targets: [{ kind: 'phone', value: ' +441234567890 ' }],
      from: '2026-06-01',
      to: '2026-10-01',
      categories: ['phone_number'],
      otherCategories: 'Messages, ',
      nonDisclosureUntil: '2027-04-01',
    });
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(parseLegalRequest(checked.request)).toMatchObject({
      authority: { country: 'DE' },
      targets: [{ phone: '+441234567890' }],
      requestedCategories: ['phone_number', 'messages'],
      nonDisclosure: { until: '2027-04-01' },
    });
  });
});

describe('the queue filters', () => {
  const summary = fc.record({
    caseId: fc.string({ minLength: 1, maxLength: 5 }),
    receivedAt: fc.integer({ min: 0, max: 100 * 86_400_000 }),
    status: fc.constantFrom(
      'not_considered',
      'rejected',
      'awaiting_approval',
      'approved',
      'declined',
      'produced',
    ),
    country: fc.constantFrom('DE', 'FR', 'US'),
    nonDisclosureUntil: fc.constant(null),
    outcome: fc.constantFrom(...OUTCOMES),
  }) as fc.Arbitrary<CaseSummary>;
  const filters = fc.record({
    status: fc.constantFrom('', 'approved', 'produced'),
    country: fc.constantFrom('', 'DE', 'FR'),
    outcome: fc.constantFrom('', ...OUTCOMES),
    age: fc.constantFrom(...Object.keys(AGES)),
  });

  it('keeps exactly the cases that match every filter, in their order', () => {
    fc.assert(
      fc.property(fc.array(summary, { maxLength: 20 }), filters, (cases, f) => {
        const now = 100 * 86_400_000;
        const kept = filterCases(cases, f, now);
        const matches = (c: CaseSummary) =>
          (f.status === '' || c.status === f.status) &&
          (f.country === '' || c.country === f.country) &&
          (f.outcome === '' || c.outcome === f.outcome) &&
          AGES[f.age]![1](now - c.receivedAt);
        expect(kept).toEqual(cases.filter(matches));
        if (f.status === '' && f.country === '' && f.outcome === '' && f.age === '')
          expect(kept).toEqual(cases);
      }),
    );
  });
});
