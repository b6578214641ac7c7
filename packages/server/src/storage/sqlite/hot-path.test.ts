import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { temporarySqlitePath } from '../contract/adapters.ts';
import { DEFAULT_PRIVACY, type EntryRow, type Storage, type Stores } from '../ports.ts';
import { openSqliteStorage } from './open-storage.ts';

/**
 * The delivery commit's prepared statements (hot-path.ts), used by a transaction's stores on SQLite,
 * answer and write exactly what the Kysely stores do: the same random histories of appends,
 * duplicate checks, membership checks and acknowledgements run on two databases, one through the
 * plain stores and one through transactions, and every answer and the final state must match.
 */
const ACCOUNTS = ['a1', 'a2', 'a3', 'a4'];
const DEVICES = [
  ['d1', 'a1'],
  ['d2', 'a2'],
  ['d3', 'a3'],
  ['d3b', 'a3'],
  ['d4', 'a4'],
] as const;
/** g1: a1 a2 joined at 1; g2: a2 a3 joined at 5; a4 is in neither. */
const GROUPS = [
  ['g1', ['a1', 'a2'], 1],
  ['g2', ['a2', 'a3'], 5],
] as const;
const GROUP_IDS = ['g1', 'g2', 'g_missing'];
const DEVICE_IDS = [...DEVICES.map(([d]) => d), 'd_missing'];

async function seed(stores: Stores): Promise<void> {
  for (const id of ACCOUNTS) {
    await stores.accounts.insert({
      id,
      phone: `+15550000${id.slice(1)}`,
      username: null,
      displayName: '',
      createdAt: 1,
      lastSeenDay: null,
      privacy: DEFAULT_PRIVACY,
    });
  }
  for (const [id, accountId] of DEVICES)
    await stores.devices.insert({ id, accountId, name: 'phone', createdAt: 1, lastSeenAt: null });
  for (const [id, members, joinedSeq] of GROUPS) {
    await stores.groups.insert({
      id,
      kind: 'group',
      title: id,
      createdBy: members[0],
      createdAt: 1,
      lastSeq: 0,
      memberCount: members.length,
      directKey: null,
    });
    await stores.groups.insertMembers(
      members.map((accountId, i) => ({
        groupId: id,
        accountId,
        role: i === 0 ? ('owner' as const) : ('member' as const),
        joinedAt: 1,
        joinedSeq,
      })),
    );
  }
}

type Step =
  | { kind: 'append'; sends: { groupId: string; deviceId: string; clientMsgId: string }[] }
  | { kind: 'members'; pairs: { groupId: string; accountId: string }[] }
  | { kind: 'ack'; updates: { deviceId: string; groupId: string; ackedSeq: number }[] };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    sends: fc.array(
      fc.record({
        groupId: fc.constantFrom(...GROUP_IDS),
        deviceId: fc.constantFrom(...DEVICE_IDS),
        clientMsgId: fc.constantFrom('m1', 'm2', 'm3', 'm4'),
      }),
      { maxLength: 6 },
    ),
  }),
  fc.record({
    kind: fc.constant('members' as const),
    pairs: fc.array(
      fc.record({
        groupId: fc.constantFrom(...GROUP_IDS),
        accountId: fc.constantFrom(...ACCOUNTS, 'a_missing'),
      }),
      { maxLength: 5 },
    ),
  }),
  fc.record({
    kind: fc.constant('ack' as const),
    updates: fc.array(
      fc.record({
        deviceId: fc.constantFrom(...DEVICE_IDS.slice(0, -1)),
        groupId: fc.constantFrom('g1', 'g2'),
        ackedSeq: fc.nat(12),
      }),
      { maxLength: 5 },
    ),
  }),
);

/** What the delivery service does with a batch of sends, through whichever stores it is given. */
async function append(tx: Stores, sends: Extract<Step, { kind: 'append' }>['sends'], at: number) {
  const keys = sends.map((s) => ({ senderDeviceId: s.deviceId, clientMsgId: s.clientMsgId }));
  const stored = (await tx.entries.storedSends(keys)).sort((x, y) =>
    `${x.senderDeviceId} ${x.clientMsgId} ${x.target}`.localeCompare(
      `${y.senderDeviceId} ${y.clientMsgId} ${y.target}`,
    ),
  );
  const known = new Set(stored.map((s) => `${s.senderDeviceId} ${s.clientMsgId} ${s.target}`));
  const fresh = new Map<string, { deviceId: string; clientMsgId: string }[]>();
  for (const s of sends) {
    const key = `${s.deviceId} ${s.clientMsgId} ${s.groupId}`;
    if (known.has(key)) continue;
    known.add(key);
    fresh.set(s.groupId, [...(fresh.get(s.groupId) ?? []), s]);
  }
  const lasts = await tx.groups.allocateSeqs(new Map([...fresh].map(([g, list]) => [g, list.length])));
  const rows: EntryRow[] = [];
  for (const [groupId, list] of fresh) {
    const last = lasts.get(groupId);
    if (last === undefined) continue;
    for (const [i, s] of list.entries()) {
      rows.push({
        groupId,
        seq: last - list.length + 1 + i,
        kind: 'message',
        senderAccountId: DEVICES.find(([d]) => d === s.deviceId)?.[1] ?? 'a_missing',
        senderDeviceId: s.deviceId,
        clientMsgId: s.clientMsgId,
        payload: Uint8Array.of(at & 255, i, 7),
        createdAt: at,
      });
    }
  }
  await tx.entries.insert(rows);
  return { stored, lasts: [...lasts].sort(), rows: rows.length };
}

async function run(tx: Stores, s: Step, at: number): Promise<unknown> {
  switch (s.kind) {
    case 'append':
      return append(tx, s.sends, at);
    case 'members':
      return (await tx.groups.memberPairs(s.pairs)).map((p) => `${p.groupId} ${p.accountId}`).sort();
    case 'ack':
      await tx.cursors.advance(s.updates);
      return null;
  }
}

async function state(storage: Storage) {
  const entries = [];
  for (const g of ['g1', 'g2']) entries.push(...(await storage.entries.range(g, 0, 1000)));
  const cursors = [];
  for (const [d] of DEVICES)
    for (const g of ['g1', 'g2'])
      cursors.push([d, g, (await storage.groups.membershipOfDevice(d, g))?.ackedSeq]);
  const lastSeqs = await storage.groups.lastSeqs(['g1', 'g2']);
  return { entries, cursors, lastSeqs };
}

describe('the SQLite commit path (prepared statements in a transaction)', () => {
  const files: { remove: () => void }[] = [];
  const opened: Storage[] = [];
  afterAll(async () => {
    for (const s of opened) await s.close();
    for (const f of files) f.remove();
  });

  const fresh = async () => {
    const file = temporarySqlitePath();
    files.push(file);
    const storage = await openSqliteStorage({ path: file.path });
    opened.push(storage);
    await seed(storage);
    return storage;
  };

  it('answers and writes what the Kysely stores do, for any history', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const plain = await fresh();
        const fast = await fresh();
        for (const [i, s] of steps.entries()) {
          const expected = await run(plain, s, 1000 + i);
          const actual = await fast.transaction((tx) => run(tx, s, 1000 + i));
          expect(actual).toEqual(expected);
        }
        expect(await state(fast)).toEqual(await state(plain));
        await plain.close();
        await fast.close();
        opened.splice(opened.indexOf(plain), 1);
        opened.splice(opened.indexOf(fast), 1);
      }),
      { numRuns: 40 },
    );
  });

  it('is what a transaction uses, and rolls back with it', async () => {
    const storage = await fresh();
    await expect(
      storage.transaction(async (tx) => {
        expect(tx.entries.insert).not.toBe(storage.entries.insert);
        await append(tx, [{ groupId: 'g1', deviceId: 'd1', clientMsgId: 'm1' }], 1);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await storage.entries.range('g1', 0, 10)).toEqual([]);
    expect((await storage.groups.lastSeqs(['g1']))[0]?.lastSeq).toBe(0);
  });
});
