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
  range,
  recordingFacts,
  rejected,
  withChanges,
} from './legal-fixtures.ts';
import { parseLegalRequest } from './legal-request.ts';
import { POLICY_2018, policyHash } from './policy.ts';
import { evaluate } from './policy-engine.ts';

/** [what, changes to the eligible request, expected decision, the questions the facts are asked] */
const RULES_2018: [string, Record<string, unknown>, Expected, string[]][] = [
  [
    'a terrorism court order, confirmed suspect',
    {},
    eligible([], ['phone_number', 'ip_addresses']),
    ['resolve +441234567890', 'ip u:+441234567890'],
  ],
  [
    'a subpoena from RU: not considered, not rejected',
    { ...authority('RU'), ...court('subpoena') },
    NOT_CONSIDERED,
    [],
  ],
  ['a court order from "ru" (lower case)', authority('ru', 'security_service'), NOT_CONSIDERED, []],
  [
    'RU asking for everything, in bulk',
    { ...authority('RU'), ...asking('keys', 'messages'), targets: [{ username: 'all' }] },
    NOT_CONSIDERED,
    [],
  ],
  ['a subpoena', court('subpoena', ''), rejected('LEGAL_PROCESS_INSUFFICIENT'), []],
  ['a police letter', court('police_letter'), rejected('LEGAL_PROCESS_INSUFFICIENT'), []],
  ['a warrant (2018: court orders only)', court('warrant'), rejected('LEGAL_PROCESS_INSUFFICIENT'), []],
  ['a court order naming no court', court('court_order', '  '), rejected('LEGAL_PROCESS_INSUFFICIENT'), []],
  ['an emergency request', court('emergency'), rejected('LEGAL_PROCESS_INSUFFICIENT'), []],
  ['fraud', offence('fraud'), rejected('NOT_TERROR_SUSPECT'), []],
  ['terrorism, suspect not confirmed', offence('terrorism', false), rejected('NOT_TERROR_SUSPECT'), []],
  [
    '"Terrorism" written in capitals',
    offence(' Terrorism '),
    eligible([], ['phone_number', 'ip_addresses']),
    ['resolve +441234567890', 'ip u:+441234567890'],
  ],
  ['"all users"', { targets: [{ username: 'all users' }] }, rejected('NOT_SPECIFIC'), []],
  ['no target at all', { targets: [] }, rejected('NOT_SPECIFIC'), []],
  ['a wildcard phone', { targets: [{ phone: '+44*' }] }, rejected('NOT_SPECIFIC'), []],
  ['a phone prefix', { targets: [{ phone: '+44 20' }] }, rejected('NOT_SPECIFIC'), []],
  ['a "*" user id', { targets: [{ userId: '*' }] }, rejected('NOT_SPECIFIC'), []],
  [
    'one specific target and "everyone"',
    { targets: [{ userId: 'u_1' }, { username: 'Everyone' }] },
    { ...rejected('NOT_SPECIFIC'), targets: [{ status: 'not_looked_up' }, { status: 'not_specific' }] },
    [],
  ],
  [
    'messages and the phone number',
    asking('messages', 'phone_number'),
    {
      ...eligible(['CONTENT_NEVER_DISCLOSED'], ['phone_number']),
      withheld: [{ category: 'messages', reason: 'CONTENT_NEVER_DISCLOSED' }],
    },
    ['resolve +441234567890'],
  ],
  ['keys only', asking('keys'), rejected('CONTENT_NEVER_DISCLOSED'), []],
  ['contacts and media only', asking('Contacts', 'media'), rejected('CONTENT_NEVER_DISCLOSED'), []],
  ['location only', asking('location'), rejected('CATEGORY_NOT_DISCLOSABLE'), []],
  [
    'location, keys and the phone number',
    asking('location', 'keys', 'phone number'),
    eligible(['CONTENT_NEVER_DISCLOSED', 'CATEGORY_NOT_DISCLOSABLE'], ['phone_number']),
    ['resolve +441234567890'],
  ],
  [
    'everything wrong at once',
    {
      ...court('informal', ''),
      ...offence('tax', false),
      targets: [{ phone: '*' }],
      ...asking('location', 'messages'),
    },
    rejected(
      'LEGAL_PROCESS_INSUFFICIENT',
      'NOT_TERROR_SUSPECT',
      'NOT_SPECIFIC',
      'CONTENT_NEVER_DISCLOSED',
      'CATEGORY_NOT_DISCLOSABLE',
    ),
    [],
  ],
  [
    'IP addresses of 2020 (outside the window)',
    { ...asking('ip_addresses'), ...range('2020-01-01', '2020-12-31') },
    rejected('NO_DATA_RETAINED'),
    [],
  ],
  [
    'phone and IPs of 2020',
    range('2020-01-01', '2020-12-31'),
    { ...eligible(['NO_DATA_RETAINED'], ['phone_number']), ipRange: null },
    ['resolve +441234567890'],
  ],
  [
    'IP addresses of next year',
    { ...asking('ip_addresses'), ...range('2027-01-01', '2027-02-01') },
    rejected('NO_DATA_RETAINED'),
    [],
  ],
  [
    'IPs of a range that starts before the window',
    range('2025-01-01', '2026-01-31'),
    {
      ...eligible([], ['phone_number', 'ip_addresses']),
      ipRange: { from: '2025-10-31T18:10:48.000Z', to: '2026-01-31T23:59:59.999Z' },
    },
    ['resolve +441234567890', 'ip u:+441234567890'],
  ],
  [
    'a subpoena for keys from US',
    { ...authority('US', 'prosecutor'), ...court('subpoena', ''), ...asking('keys') },
    rejected('LEGAL_PROCESS_INSUFFICIENT', 'CONTENT_NEVER_DISCLOSED'),
    [],
  ],
];

describe('the 2018 policy, rule by rule', () => {
  it.each(RULES_2018)('%s', async (_what, changes, expected, questions) => {
    const { facts, calls } = recordingFacts();
    const decision = await evaluate(parseLegalRequest(withChanges(changes)), POLICY_2018, facts, NOW);
    expect(decision).toMatchObject(expected);
    expect(calls).toEqual(questions);
    expect(decision.policyVersion).toBe('2018-08-14');
    expect(decision.policyHash).toBe(policyHash(POLICY_2018));
  });
});

/** [what, changes, facts' table, expected] — the facts are consulted last. */
const FACTS_2018: [
  string,
  Record<string, unknown>,
  Parameters<typeof recordingFacts>[0],
  Record<string, unknown>,
][] = [
  [
    'an unknown target',
    {},
    { missing: ['+441234567890'] },
    { ...rejected('TARGET_NOT_FOUND'), targets: [{ status: 'not_found' }] },
  ],
  [
    'one of two targets unknown: narrowed to the other',
    { targets: [{ username: 'ghost_1' }, { userId: 'u_2' }] },
    { missing: ['ghost_1'] },
    { ...eligible(['TARGET_NOT_FOUND'], ['phone_number', 'ip_addresses']), accounts: ['u:u_2'] },
  ],
  [
    'two targets naming one account',
    { targets: [{ username: 'alice_1' }, { phone: '+441234567890' }] },
    { sameAccount: ['alice_1', '+441234567890'] },
    { ...eligible([], ['phone_number', 'ip_addresses']), accounts: ['u:shared'] },
  ],
  [
    'no IP records in the range',
    {},
    { noIps: ['u:+441234567890'] },
    eligible(['NO_DATA_RETAINED'], ['phone_number']),
  ],
  [
    'only IPs asked, none recorded',
    asking('ip_addresses'),
    { noIps: ['u:+441234567890'] },
    rejected('NO_DATA_RETAINED'),
  ],
  [
    'content, an unknown target and no IPs at once',
    {
      targets: [{ userId: 'u_1' }, { userId: 'u_2' }],
      ...asking('messages', 'ip_addresses', 'phone_number'),
    },
    { missing: ['u_1'], noIps: ['u:u_2'] },
    eligible(['CONTENT_NEVER_DISCLOSED', 'TARGET_NOT_FOUND', 'NO_DATA_RETAINED'], ['phone_number']),
  ],
];

describe('facts, consulted last', () => {
  it.each(FACTS_2018)('%s', async (_what, changes, table, expected) => {
    const { facts } = recordingFacts(table);
    const decision = await evaluate(parseLegalRequest(withChanges(changes)), POLICY_2018, facts, NOW);
    expect(decision).toMatchObject({ ...expected, facts: 'consulted' });
  });

  it('without facts, an eligible decision says they are unknown and looks nothing up', async () => {
    const decision = await evaluate(parseLegalRequest(withChanges({})), POLICY_2018, undefined, NOW);
    expect(decision).toMatchObject({
      ...eligible([], ['phone_number', 'ip_addresses']),
      facts: 'unknown',
      accounts: [],
      targets: [{ target: { phone: '+441234567890' }, status: 'not_looked_up' }],
    });
  });

  it('lists reasons in rule order whatever order the categories are asked in', async () => {
    const decide = async (...categories: string[]) =>
      (await evaluate(parseLegalRequest(withChanges(asking(...categories))), POLICY_2018, undefined, NOW))
        .reasons;
    expect(await decide('location', 'keys', 'phone_number')).toEqual(
      await decide('phone_number', 'keys', 'location'),
    );
  });
});
