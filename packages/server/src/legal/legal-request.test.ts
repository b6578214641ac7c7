import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISO_COUNTRIES } from './iso-countries.ts';
import { ELIGIBLE_INPUT, withChanges } from './legal-fixtures.ts';
import { LegalRequestInvalid, parseLegalRequest } from './legal-request.ts';

const problems = (input: unknown): string[] => {
  try {
    parseLegalRequest(input);
  } catch (error) {
    if (error instanceof LegalRequestInvalid) return error.issues;
    throw error;
  }
  return [];
};

describe('a legal request', () => {
  it('is normalised: country upper-case, categories snake_case once, dates as whole UTC days', () => {
    const request = parseLegalRequest(
      withChanges({
        authority: { name: ' BKA ', kind: 'police', country: 'de' },
        requestedCategories: ['Phone Number', 'phone_number', 'IP-Addresses', 'messages'],
        timeRange: { from: '2026-06-01', to: '2026-06-30T12:00:00+02:00' },
      }),
    );
    expect(request.authority).toEqual({ name: 'BKA', kind: 'police', country: 'DE' });
    expect(request.requestedCategories).toEqual(['phone_number', 'ip_addresses', 'messages']);
    expect(request.timeRange).toEqual({ from: '2026-06-01T00:00:00.000Z', to: '2026-06-30T10:00:00.000Z' });
    expect(parseLegalRequest(ELIGIBLE_INPUT).timeRange.to).toBe('2026-10-01T23:59:59.999Z');
    expect(parseLegalRequest(ELIGIBLE_INPUT)).toMatchObject({
      nonDisclosure: null,
      instrument: { issuingCourt: 'Amtsgericht Berlin-Tiergarten' },
    });
  });

  it('may name no account (the policy refuses it as NOT_SPECIFIC, and it is still counted)', () => {
    expect(parseLegalRequest(withChanges({ targets: [] })).targets).toEqual([]);
  });

  it.each([
    ['an unknown key', { extra: 1 }, ['(root): Unrecognized key: "extra"']],
    [
      'a country that is not ISO 3166-1',
      { authority: { name: 'X', kind: 'court', country: 'XX' } },
      ['authority.country: not an ISO 3166-1 alpha-2 country code'],
    ],
    [
      'an old code (UK is GB)',
      { authority: { name: 'X', kind: 'court', country: 'UK' } },
      ['authority.country: not an ISO 3166-1 alpha-2 country code'],
    ],
    [
      'an unknown instrument',
      { instrument: { type: 'fax', reference: 'r', issueDate: '2026-01-01' } },
      [
        'instrument.type: Invalid option: expected one of "court_order"|"subpoena"|"warrant"|"police_letter"|"administrative"|"emergency"|"informal"',
      ],
    ],
    [
      'a target with two identifiers',
      { targets: [{ phone: '+441234567890', username: 'alice_1' }] },
      ['targets.0: a target names exactly one of userId, phone or username'],
    ],
    [
      'a target with another key',
      { targets: [{ email: 'a@b.c' }] },
      [
        'targets.0: Unrecognized key: "email"',
        'targets.0: a target names exactly one of userId, phone or username',
      ],
    ],
    [
      'a range backwards',
      { timeRange: { from: '2026-02-01', to: '2026-01-01' } },
      ['timeRange.to: from must not be after to'],
    ],
    [
      'the 30th of February',
      { timeRange: { from: '2026-02-30', to: '2026-03-01' } },
      [
        'timeRange.from: not an ISO 8601 date (2026-06-30) or date-time with a time zone (2026-06-30T12:00:00Z)',
      ],
    ],
    [
      'nothing asked',
      { requestedCategories: [] },
      ['requestedCategories: Too small: expected array to have >=1 items'],
    ],
  ])('refuses %s, naming the problem', (_what, change, expected) => {
    expect(problems(withChanges(change))).toEqual(expected);
  });

  it('names every problem at once', () => {
    expect(problems({ authority: { kind: 'army', country: 'ZZ' }, targets: 'all' })).toEqual([
      'authority.name: Invalid input: expected string, received undefined',
      'authority.kind: Invalid option: expected one of "court"|"prosecutor"|"police"|"security_service"',
      'authority.country: not an ISO 3166-1 alpha-2 country code',
      'instrument: Invalid input: expected object, received undefined',
      'offence: Invalid input: expected object, received undefined',
      'targets: Invalid input: expected array, received string',
      'timeRange: Invalid input: expected object, received undefined',
      'requestedCategories: Invalid input: expected array, received undefined',
    ]);
  });

  it('knows the 249 officially assigned ISO 3166-1 alpha-2 codes', () => {
    expect(ISO_COUNTRIES.size).toBe(249);
    for (const code of ['DE', 'RU', 'US', 'GB', 'SS', 'BQ', 'AX']) expect(ISO_COUNTRIES.has(code)).toBe(true);
    for (const code of ['UK', 'EU', 'XK', 'SU', 'YU', 'ZZ']) expect(ISO_COUNTRIES.has(code)).toBe(false);
  });

  it('throws nothing but LegalRequestInvalid on any JSON, at the root or in any field', () => {
    const fields = [...Object.keys(ELIGIBLE_INPUT), 'nonDisclosure'];
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...fields), (value, field) => {
        for (const input of [value, withChanges({ [field]: value })]) {
          try {
            parseLegalRequest(input);
          } catch (error) {
            expect(error).toBeInstanceOf(LegalRequestInvalid);
            expect((error as LegalRequestInvalid).issues.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
