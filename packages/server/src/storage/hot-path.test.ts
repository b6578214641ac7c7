import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedStorage, storageAdapters } from './contract/adapters.ts';
import { seedDelivery } from './contract/delivery-seed.ts';
import type { EntryRow, Storage, Stores } from './ports.ts';

/**
 * The delivery commit's fast statements (sqlite/hot-path.ts, postgres/hot-path.ts), used by a
 * transaction's stores, answer and write exactly what the Kysely stores do: the same random
 * histories of appends, duplicate checks, membership checks and acknowledgements run on two
 * databases, one through the plain stores and one through transactions, and every answer and the
 * final state must match. Each history uses ids of its own (`t`), so the databases are opened once.
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

const seed = (stores: Stores, t: (id: string) => string) =>
  seedDelivery(stores, t, { accounts: ACCOUNTS, devices: DEVICES, groups: GROUPS });

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
async function append(
  tx: Stores,
  sends: Extract<Step, { kind: 'append' }>['sends'],
  at: number,
  t: (id: string) => string,
) {
  const keys = sends.map((s) => ({ senderDeviceId: t(s.deviceId), clientMsgId: s.clientMsgId }));
  const stored = (await tx.entries.storedSends(keys))
    .map((s) => `${s.senderDeviceId} ${s.clientMsgId} ${s.target} ${s.seq}`)
    .sort();
  const known = new Set(stored.map((s) => s.split(' ').slice(0, 3).join(' ')));
  const fresh = new Map<string, { deviceId: string; clientMsgId: string }[]>();
  for (const s of sends) {
    const key = `${t(s.deviceId)} ${s.clientMsgId} ${t(s.groupId)}`;
    if (known.has(key)) continue;
    known.add(key);
    fresh.set(t(s.groupId), [...(fresh.get(t(s.groupId)) ?? []), s]);
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
        senderAccountId: t(DEVICES.find(([d]) => d === s.deviceId)?.[1] ?? 'a_missing'),
        senderDeviceId: t(s.deviceId),
        clientMsgId: s.clientMsgId,
        payload: Uint8Array.of(at & 255, i, 7),
        createdAt: at,
      });
    }
  }
  await tx.entries.insert(rows);
  return { stored, lasts: [...lasts].sort(), rows: rows.length };
}

async function run(tx: Stores, s: Step, at: number, t: (id: string) => string): Promise<unknown> {
  switch (s.kind) {
    case 'append':
      return append(tx, s.sends, at, t);
    case 'members':
      return (
        await tx.groups.memberPairs(
          s.pairs.map((p) => ({ groupId: t(p.groupId), accountId: t(p.accountId) })),
        )
      )
        .map((p) => `${p.groupId} ${p.accountId}`)
        .sort();
    case 'ack':
      await tx.cursors.advance(
        s.updates.map((u) => ({ deviceId: t(u.deviceId), groupId: t(u.groupId), ackedSeq: u.ackedSeq })),
      );
      return null;
  }
}

async function state(storage: Storage, t: (id: string) => string) {
  const entries = [];
  for (const g of ['g1', 'g2']) entries.push(...(await storage.entries.range(t(g), 0, 1000)));
  const cursors = [];
  for (const [d] of DEVICES)
    for (const g of ['g1', 'g2'])
      cursors.push([d, g, (await storage.groups.membershipOfDevice(t(d), t(g)))?.ackedSeq]);
  const lastSeqs = (await storage.groups.lastSeqs([t('g1'), t('g2')])).sort((x, y) =>
    x.groupId.localeCompare(y.groupId),
  );
  return { entries, cursors, lastSeqs };
}

let histories = 0;
const tagger = () => {
  histories += 1;
  const tag = `h${histories}x`;
  return (id: string) => `${tag}${id}`;
};

describe.each(storageAdapters)('the delivery commit path in a transaction on $name', (adapter) => {
  let plain: OpenedStorage;
  let fast: OpenedStorage;
  beforeAll(async () => {
    plain = await adapter.open();
    fast = await adapter.open();
  });
  afterAll(async () => {
    await plain?.dispose();
    await fast?.dispose();
  });

  it('answers and writes what the Kysely stores do, for any history', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const t = tagger();
        await seed(plain.storage, t);
        await seed(fast.storage, t);
        for (const [i, s] of steps.entries()) {
          const expected = await run(plain.storage, s, 1000 + i, t);
          const actual = await fast.storage.transaction((tx) => run(tx, s, 1000 + i, t));
          expect(actual).toEqual(expected);
        }
        expect(await state(fast.storage, t)).toEqual(await state(plain.storage, t));
      }),
      { numRuns: 40 },
    );
  });

  it('is what a transaction uses, and rolls back with it', async () => {
    const t = tagger();
    const storage = fast.storage;
    await seed(storage, t);
    await expect(
      storage.transaction(async (tx) => {
        expect(tx.entries.insert).not.toBe(storage.entries.insert);
        await append(tx, [{ groupId: 'g1', deviceId: 'd1', clientMsgId: 'm1' }], 1, t);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await storage.entries.range(t('g1'), 0, 10)).toEqual([]);
    expect((await storage.groups.lastSeqs([t('g1')]))[0]?.lastSeq).toBe(0);
  });
});
