import type { PublicLeaf } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LegalCaseStore } from '../storage/ports.ts';
import type { TransparencyLog } from '../transparency/transparency-log.ts';
import { NOW } from './legal-fixtures.ts';
import { LegalDesk, PUBLIC_LEAF_VOCABULARY } from './legal-desk.ts';
import { INSTRUMENT_TYPES, type LegalTarget, targetValue } from './legal-request.ts';
import { POLICY_2018, POLICY_2024_EXAMPLE } from './policy.ts';
import type { LegalFacts } from './policy-engine.ts';

const IDS = ['+441234567890', 'alice_1', 'u_123', '+12025550143'];
const text = fc.string({ minLength: 1, maxLength: 24 }).filter((s) => s.trim() !== '');
const target = fc.oneof(
  fc.constantFrom(...IDS).map((phone) => ({ phone })),
  fc.constantFrom(...IDS).map((username) => ({ username })),
  fc.constantFrom(...IDS).map((userId) => ({ userId })),
);
const day = fc
  .integer({ min: Date.UTC(2025, 6, 1), max: Date.UTC(2027, 0, 1) })
  .map((t) => new Date(t).toISOString());

/** Requests as an authority may write them, free text in the categories included. */
const anyRequest = fc.record({
  authority: fc.record({
    name: fc.constant('An authority'),
    kind: fc.constantFrom('court', 'police'),
    country: fc.constantFrom('DE', 'FR', 'RU', 'us'),
  }),
  // Mostly what the rules allow, so that the lookups (made only then) are exercised.
  instrument: fc.record({
    type: fc.oneof(
      { arbitrary: fc.constant('court_order' as const), weight: 4 },
      { arbitrary: fc.constantFrom(...INSTRUMENT_TYPES), weight: 1 },
    ),
    issuingCourt: fc.constantFrom('', 'A court', 'A court', 'A court'),
    reference: text,
    issueDate: fc.constant('2026-01-01'),
  }),
  offence: fc.record({
    category: fc.constantFrom('terrorism', 'terrorism', 'terrorism', 'fraud'),
    confirmsSuspect: fc.constantFrom(true, true, true, false),
  }),
  targets: fc.array(target, { minLength: 0, maxLength: 4 }),
  timeRange: fc.tuple(day, day).map(([a, b]) => (a <= b ? { from: a, to: b } : { from: b, to: a })),
  requestedCategories: fc.array(
    fc.oneof(
      {
        arbitrary: fc.constantFrom(
          'phone_number',
          'ip_addresses',
          'ip_addresses',
          'messages',
          'keys',
          'Location',
        ),
        weight: 3,
      },
      { arbitrary: text, weight: 1 },
    ),
    { minLength: 1, maxLength: 5 },
  ),
});

/** What the accounts say: which identifiers name an account, and which accounts have IP records. */
const anyWorld = fc.record({
  existing: fc.subarray(IDS),
  withIps: fc.subarray(IDS),
});

function facts(world: { existing: string[]; withIps: string[] }, calls: string[]): LegalFacts {
  return {
    resolve: async (t: LegalTarget) => {
      calls.push('resolve');
      return world.existing.includes(targetValue(t)) ? `acct:${targetValue(t)}` : undefined;
    },
    hasIpRecords: async (accountId: string) => {
      calls.push('hasIpRecords');
      return world.withIps.includes(accountId.slice('acct:'.length));
    },
  };
}

/** The desk over in-memory fakes of its case store and log; returns what the submission wrote. */
async function submitIn(
  world: { existing: string[]; withIps: string[] },
  input: unknown,
  policy = POLICY_2018,
) {
  const leaves: PublicLeaf[] = [];
  const calls: string[] = [];
  const log = { append: async (leaf: PublicLeaf) => leaves.push(leaf) } as unknown as TransparencyLog;
  const cases = { insert: async () => {}, putDocument: async () => {} } as unknown as LegalCaseStore;
  const desk = new LegalDesk({
    cases,
    log,
    port: { phoneNumber: async () => undefined, ipRecords: async () => [] },
    facts: facts(world, calls),
    policy: () => policy,
    clock: { now: () => NOW },
    signingKey: new Uint8Array(32),
  });
  const { status } = await desk.submit(input, new Uint8Array([1]), 'intake');
  return { status, leaves, calls };
}

describe('the legal desk at submission, for any request and any state of the accounts', () => {
  it('gives the same status, the same public leaf and the same lookups whatever the accounts are, in the closed vocabulary', async () => {
    const vocabulary = new Set<string>(Object.values(PUBLIC_LEAF_VOCABULARY).flat());
    await fc.assert(
      fc.asyncProperty(
        anyRequest,
        anyWorld,
        anyWorld,
        fc.constantFrom(POLICY_2018, POLICY_2024_EXAMPLE),
        async (request, one, two, policy) => {
          const a = await submitIn(one, request, policy);
          const b = await submitIn(two, request, policy);
          expect(a.status).toBe(b.status);
          // The same lookups, found or not: the time a submission takes does not tell either.
          expect(a.calls).toEqual(b.calls);
          const strip = (leaves: PublicLeaf[]) => leaves.map((l) => ({ ...l, case: '' }));
          expect(strip(a.leaves)).toEqual(strip(b.leaves));
          for (const leaf of a.leaves) {
            if (leaf.type !== 'request') continue;
            for (const word of [...leaf.reasons, ...leaf.requested, ...leaf.eligible, leaf.outcome])
              expect(vocabulary, word).toContain(word);
            expect(leaf.reasons).not.toContain('TARGET_NOT_FOUND');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
