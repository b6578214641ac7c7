import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BusSignal } from './ports.ts';
import { parseSignal } from './signal-codec.ts';

/**
 * Signals cross the wire between nodes as JSON text. What one node encodes, every node decodes
 * to the same signal; anything else (another version's signal, garbage on the subject) is dropped,
 * never thrown and never "repaired" into a signal that was not sent.
 */

const text = fc.string({ maxLength: 30, unit: 'binary' });
const seq = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const pairs = fc.array(fc.tuple(text, seq), { maxLength: 6 });
const signal: fc.Arbitrary<BusSignal> = fc.oneof(
  fc.record({ type: fc.constant('groups_appended' as const), groups: pairs }),
  fc.record({ type: fc.constant('mailboxes_appended' as const), devices: pairs }),
  fc.record({
    type: fc.constant('membership_changed' as const),
    groupId: text,
    accountIds: fc.array(text, { maxLength: 6 }),
  }),
  fc.record({ type: fc.constant('devices_revoked' as const), deviceIds: fc.array(text, { maxLength: 6 }) }),
  fc.record({ type: fc.constant('channels_appended' as const), channels: pairs }),
  fc.record({
    type: fc.constant('channel_subscriptions_changed' as const),
    channelId: text,
    accountIds: fc.array(text, { maxLength: 6 }),
  }),
);

/** The shape of a signal, checked independently of the codec: exact keys, exact types. */
function isSignal(value: unknown): value is BusSignal {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort().join(',');
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  const pairList = (x: unknown) =>
    Array.isArray(x) &&
    x.every(
      (p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && Number.isSafeInteger(p[1]),
    );
  switch (v.type) {
    case 'groups_appended':
      return keys === 'groups,type' && pairList(v.groups);
    case 'mailboxes_appended':
      return keys === 'devices,type' && pairList(v.devices);
    case 'membership_changed':
      return keys === 'accountIds,groupId,type' && typeof v.groupId === 'string' && strings(v.accountIds);
    case 'devices_revoked':
      return keys === 'deviceIds,type' && strings(v.deviceIds);
    case 'channels_appended':
      return keys === 'channels,type' && pairList(v.channels);
    case 'channel_subscriptions_changed':
      return keys === 'accountIds,channelId,type' && typeof v.channelId === 'string' && strings(v.accountIds);
    default:
      return false;
  }
}

/** The fields of a signal type, from any object that claims to be one. */
function projection(value: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, string[]> = {
    groups_appended: ['type', 'groups'],
    mailboxes_appended: ['type', 'devices'],
    membership_changed: ['type', 'groupId', 'accountIds'],
    devices_revoked: ['type', 'deviceIds'],
    channels_appended: ['type', 'channels'],
    channel_subscriptions_changed: ['type', 'channelId', 'accountIds'],
  };
  return Object.fromEntries((fields[String(value.type)] ?? []).map((k) => [k, value[k]]));
}

describe('signal codec', () => {
  it('decodes every signal type it encodes, unchanged, for any ids and positions (property)', () => {
    fc.assert(
      fc.property(signal, (s) => {
        const decoded = parseSignal(JSON.stringify(s));
        expect(decoded).toEqual(s);
        expect(isSignal(decoded)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes one example of each type exactly', () => {
    const examples: BusSignal[] = [
      {
        type: 'groups_appended',
        groups: [
          ['g_a', 3],
          ['g_b', 9_007_199_254_740_991],
          ['', 0],
        ],
      },
      { type: 'mailboxes_appended', devices: [['d_a', 1]] },
      { type: 'membership_changed', groupId: 'g_a', accountIds: ['u_1', 'ü 🧗'] },
      { type: 'devices_revoked', deviceIds: [] },
    ];
    for (const s of examples) expect(parseSignal(JSON.stringify(s))).toStrictEqual(s);
  });

  it.each([
    ['not JSON', 'groups_appended'],
    ['truncated JSON', '{"type":"groups_appended","groups":[["g",1]'],
    ['empty text', ''],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['a string', '"groups_appended"'],
    ['an array', '[{"type":"devices_revoked","deviceIds":[]}]'],
    ['no type', '{"deviceIds":["d"]}'],
    ['an unknown type', '{"type":"groups_deleted","groups":[]}'],
    ['a type of another case', '{"type":"Groups_Appended","groups":[]}'],
    ['an inherited name as type', '{"type":"toString"}'],
    ['a type inside __proto__', '{"__proto__":{"type":"devices_revoked","deviceIds":[]}}'],
    ['a missing field', '{"type":"membership_changed","groupId":"g"}'],
    ['groups not a list', '{"type":"groups_appended","groups":{"g":1}}'],
    ['a fractional position', '{"type":"groups_appended","groups":[["g",1.5]]}'],
    ['a position past 2^53', '{"type":"groups_appended","groups":[["g",9007199254740992]]}'],
    ['an infinite position', '{"type":"groups_appended","groups":[["g",1e400]]}'],
    ['a position as text', '{"type":"mailboxes_appended","devices":[["d","7"]]}'],
    ['a pair of three', '{"type":"mailboxes_appended","devices":[["d",7,8]]}'],
    ['a pair of one', '{"type":"mailboxes_appended","devices":[["d"]]}'],
    ['an id as a number', '{"type":"mailboxes_appended","devices":[[7,7]]}'],
    ['a group id as a number', '{"type":"membership_changed","groupId":5,"accountIds":[]}'],
    ['an account id as null', '{"type":"membership_changed","groupId":"g","accountIds":[null]}'],
    ['device ids as text', '{"type":"devices_revoked","deviceIds":"d_1"}'],
  ])('drops %s', (_what, input) => {
    expect(parseSignal(input)).toBeUndefined();
  });

  it('keeps only the fields of the type: nothing else rides along', () => {
    expect(
      parseSignal('{"type":"devices_revoked","deviceIds":["d"],"extra":{"x":1},"groups":[]}'),
    ).toStrictEqual({
      type: 'devices_revoked',
      deviceIds: ['d'],
    });
  });

  it('never throws on any text, and returns only well-formed signals (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (input) => {
          const decoded = parseSignal(input);
          if (decoded !== undefined) expect(isSignal(decoded)).toBe(true);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('never repairs a damaged signal: a field replaced by any JSON value is dropped or kept as sent (property)', () => {
    fc.assert(
      fc.property(signal, fc.jsonValue(), fc.nat(), (s, replacement, pick) => {
        const damaged: Record<string, unknown> = { ...s };
        const keys = Object.keys(damaged);
        damaged[keys[pick % keys.length]!] = replacement;
        const decoded = parseSignal(JSON.stringify(damaged));
        if (decoded === undefined) return;
        expect(isSignal(decoded)).toBe(true);
        // Whatever decodes is exactly what was sent (after the JSON round trip), not a coercion.
        expect(decoded).toEqual(projection(JSON.parse(JSON.stringify(damaged)) as Record<string, unknown>));
      }),
      { numRuns: 1_000 },
    );
  });
});
