import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequiredTestDatabase } from '../contract/adapters.ts';
import { seedDelivery } from '../contract/delivery-seed.ts';
import type { GroupAppendOutcome, GroupMessageAppend, Storage, Stores } from '../ports.ts';
import { openPostgresStorage } from './open-storage.ts';

/**
 * The one-statement append of group messages on PostgreSQL (migration 021, group-append.ts) answers
 * and writes what the delivery service's transaction does with the stores (lock, duplicate check,
 * membership check, sequence numbers, insert), and sees a removal that committed while it waited for
 * the group's lock.
 */
const ACCOUNTS = ['a1', 'a2', 'a3'];
/** g1: a1 a2; g2: a2 a3. */
const GROUPS = [
  ['g1', ['a1', 'a2']],
  ['g2', ['a2', 'a3']],
] as const;
const DEVICE_OF: Record<string, string> = { a1: 'd1', a2: 'd2', a3: 'd3', a_missing: 'd_missing' };

const seed = (stores: Stores, t: (id: string) => string) =>
  seedDelivery(stores, t, {
    accounts: ACCOUNTS,
    devices: ACCOUNTS.map((a) => [DEVICE_OF[a]!, a] as const),
    groups: GROUPS.map(([id, members]) => [id, members, 1] as const),
  });

/** The delivery service's transaction (delivery-service.ts, commitGroupAppends) with the stores. */
async function inTransaction(
  storage: Storage,
  appends: readonly GroupMessageAppend[],
  now: number,
): Promise<GroupAppendOutcome[]> {
  return storage.transaction(async (tx) => {
    await tx.groups.lockGroups([...new Set(appends.map((a) => a.groupId))]);
    const stored = new Map(
      (await tx.entries.storedSends(appends)).map((s) => [
        `${s.senderDeviceId} ${s.clientMsgId} ${s.target}`,
        s.seq,
      ]),
    );
    const members = new Set(
      (
        await tx.groups.memberPairs(
          appends.map((a) => ({ groupId: a.groupId, accountId: a.senderAccountId })),
        )
      ).map((p) => `${p.groupId} ${p.accountId}`),
    );
    const outcomes: (GroupAppendOutcome | undefined)[] = [];
    const fresh = new Map<string, number[]>();
    appends.forEach((a, i) => {
      const seq = stored.get(`${a.senderDeviceId} ${a.clientMsgId} ${a.groupId}`);
      if (seq !== undefined) outcomes[i] = { kind: 'duplicate', seq };
      else if (!members.has(`${a.groupId} ${a.senderAccountId}`)) outcomes[i] = { kind: 'not_member' };
      else fresh.set(a.groupId, [...(fresh.get(a.groupId) ?? []), i]);
    });
    const lasts = await tx.groups.allocateSeqs(new Map([...fresh].map(([g, list]) => [g, list.length])));
    const rows = [];
    for (const [groupId, list] of fresh) {
      const last = lasts.get(groupId);
      for (const [k, i] of list.entries()) {
        if (last === undefined) {
          outcomes[i] = { kind: 'group_not_found' };
          continue;
        }
        const a = appends[i]!;
        const seq = last - list.length + 1 + k;
        outcomes[i] = { kind: 'stored', seq };
        rows.push({ ...a, seq, kind: 'message' as const, createdAt: now });
      }
    }
    await tx.entries.insert(rows);
    return outcomes as GroupAppendOutcome[];
  });
}

let histories = 0;
const tagger = () => {
  histories += 1;
  const tag = `p${histories}x`;
  return (id: string) => `${tag}${id}`;
};

const send = fc.record({
  groupId: fc.constantFrom('g1', 'g2', 'g_missing'),
  accountId: fc.constantFrom(...ACCOUNTS, 'a_missing'),
  clientMsgId: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5'),
  payload: fc.uint8Array({ maxLength: 8 }),
});

interface Opened {
  storage: Storage;
  url: string;
  drop: () => Promise<void>;
}

describe('the one-statement group append on postgres', () => {
  let plain: Opened;
  let fast: Opened;
  const open = async (): Promise<Opened> => {
    const db = await createRequiredTestDatabase();
    return { storage: await openPostgresStorage({ url: db.url, poolSize: 4 }), drop: db.drop, url: db.url };
  };
  beforeAll(async () => {
    plain = await open();
    fast = await open();
  });
  afterAll(async () => {
    for (const o of [plain, fast]) {
      await o?.storage.close();
      await o?.drop();
    }
  });

  it('answers and writes what the delivery transaction does, for any history of batches', async () => {
    expect(fast.storage.appendGroupMessages).toBeTypeOf('function');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(send, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        async (batches) => {
          const t = tagger();
          await seed(plain.storage, t);
          await seed(fast.storage, t);
          for (const [b, batch] of batches.entries()) {
            // The delivery service sends each (sender, client message id, group) once per batch.
            const unique = new Map<string, GroupMessageAppend>();
            for (const s of batch)
              unique.set(`${s.accountId} ${s.clientMsgId} ${s.groupId}`, {
                groupId: t(s.groupId),
                senderAccountId: t(s.accountId),
                senderDeviceId: t(DEVICE_OF[s.accountId]!),
                clientMsgId: s.clientMsgId,
                payload: s.payload,
              });
            const appends = [...unique.values()];
            const expected = await inTransaction(plain.storage, appends, 1000 + b);
            expect(await fast.storage.appendGroupMessages!(appends, 1000 + b)).toEqual(expected);
          }
          for (const g of ['g1', 'g2']) {
            expect(await fast.storage.entries.range(t(g), 0, 1000)).toEqual(
              await plain.storage.entries.range(t(g), 0, 1000),
            );
            expect(await fast.storage.groups.lastSeqs([t(g)])).toEqual(
              await plain.storage.groups.lastSeqs([t(g)]),
            );
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('sees a removal that committed while it waited for the group: not a member, nothing stored', async () => {
    const t = tagger();
    await seed(fast.storage, t);
    const remover = new pg.Client({ connectionString: fast.url });
    await remover.connect();
    try {
      // A removal holds the group's row (as the group service's transaction does) while the append starts.
      await remover.query('BEGIN');
      await remover.query('SELECT id FROM groups WHERE id = $1 FOR UPDATE', [t('g1')]);
      await remover.query('DELETE FROM group_members WHERE group_id = $1 AND account_id = $2', [
        t('g1'),
        t('a2'),
      ]);
      const appending = fast.storage.appendGroupMessages!(
        [
          {
            groupId: t('g1'),
            senderAccountId: t('a2'),
            senderDeviceId: t('d2'),
            clientMsgId: 'late',
            payload: Uint8Array.of(1),
          },
        ],
        5,
      );
      let settled = false;
      void appending.then(() => {
        settled = true;
      });
      // It waits for the lock (the removal has not committed yet).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      await remover.query('COMMIT');
      expect(await appending).toEqual([{ kind: 'not_member' }]);
      expect(await fast.storage.entries.range(t('g1'), 0, 10)).toEqual([]);
    } finally {
      await remover.end();
    }
  });

  it('numbers concurrent batches of one group without a gap or a repeat', async () => {
    const t = tagger();
    await seed(fast.storage, t);
    const batch = (n: number) =>
      Array.from({ length: 5 }, (_, i) => ({
        groupId: t('g1'),
        senderAccountId: t('a1'),
        senderDeviceId: t('d1'),
        clientMsgId: `c${n}-${i}`,
        payload: Uint8Array.of(n, i),
      }));
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => fast.storage.appendGroupMessages!(batch(n), 7)),
    );
    const seqs = results.flat().map((o) => (o.kind === 'stored' ? o.seq : -1));
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await fast.storage.groups.lastSeqs([t('g1')]))[0]?.lastSeq).toBe(20);
  });
});
