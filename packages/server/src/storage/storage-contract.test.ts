import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../test/support/postgres.ts';
import { DEFAULT_PRIVACY, type EntryRow, type Storage } from './ports.ts';
import { openPostgresStorage } from './postgres/open-storage.ts';
import { openSqliteStorage } from './sqlite/open-storage.ts';

/** One contract, every adapter: what the services rely on from storage. */
const adapters: [string, () => Promise<{ storage: Storage; cleanup: () => Promise<void> }>][] = [
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'courier-contract-'));
      const storage = await openSqliteStorage({ path: join(dir, 'db.sqlite') });
      return { storage, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      const storage = await openPostgresStorage({ url: db.url, poolSize: 4 });
      return { storage, cleanup: db.drop };
    },
  ],
];

let counter = 0;
const id = (prefix: string) => `${prefix}_contract${String(++counter).padStart(12, '0')}`;

describe.each(adapters)('storage contract: %s', (_name, open) => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ storage, cleanup } = await open());
  });
  afterAll(async () => {
    await storage?.close();
    await cleanup?.();
  });

  async function account(phone = `+44207${String(++counter).padStart(7, '0')}`) {
    const row = {
      id: id('u'),
      phone,
      username: null,
      displayName: '',
      createdAt: 1,
      lastSeenDay: null,
      privacy: DEFAULT_PRIVACY,
    };
    await storage.accounts.insert(row);
    const device = { id: id('d'), accountId: row.id, name: 'd', createdAt: 1, lastSeenAt: null };
    await storage.devices.insert(device);
    return { account: row, device };
  }

  async function group(members: string[]) {
    const g = {
      id: id('g'),
      kind: 'group' as const,
      title: 't',
      createdBy: members[0]!,
      createdAt: 1,
      lastSeq: 0,
      memberCount: members.length,
      directKey: null,
    };
    await storage.groups.insert(g);
    await storage.groups.insertMembers(
      members.map((m) => ({
        groupId: g.id,
        accountId: m,
        role: 'member' as const,
        joinedAt: 1,
        joinedSeq: 1,
      })),
    );
    return g;
  }

  const entry = (
    groupId: string,
    seq: number,
    device: string,
    payload = new Uint8Array([seq & 255]),
  ): EntryRow => ({
    groupId,
    seq,
    kind: 'message',
    senderAccountId: 'u_x',
    senderDeviceId: device,
    clientMsgId: `c${seq}`,
    payload,
    createdAt: 1000 + seq,
  });

  it('keeps phone numbers unique and usernames unique regardless of case', async () => {
    const { account: a } = await account();
    await expect(storage.accounts.insert({ ...a, id: id('u') })).rejects.toThrow();
    const { account: b } = await account();
    expect(await storage.accounts.setUsername(a.id, 'Night_Owl')).toBe(true);
    expect(await storage.accounts.setUsername(b.id, 'night_owl')).toBe(false);
    expect((await storage.accounts.byUsername('NIGHT_OWL'))?.id).toBe(a.id);
    expect(await storage.accounts.setUsername(a.id, null)).toBe(true);
    expect(await storage.accounts.setUsername(b.id, 'night_owl')).toBe(true);
  });

  it('returns bigint columns as numbers and payload bytes exactly, empty and large', async () => {
    const { account: a, device } = await account();
    const g = await group([a.id]);
    const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 255);
    await storage.entries.insert([
      entry(g.id, 1, device.id, new Uint8Array()),
      entry(g.id, 2, device.id, big),
    ]);
    const rows = await storage.entries.range(g.id, 0, 10);
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
    expect(typeof rows[0]!.createdAt).toBe('number');
    expect(rows[0]!.payload).toEqual(new Uint8Array());
    expect(Buffer.from(rows[1]!.payload).equals(Buffer.from(big))).toBe(true);
  });

  it('allocates consecutive sequence ranges, one group or many', async () => {
    const { account: a } = await account();
    const g1 = await group([a.id]);
    const g2 = await group([a.id]);
    expect(await storage.transaction((tx) => tx.groups.allocateSeq(g1.id, 3))).toBe(3);
    const lasts = await storage.transaction((tx) =>
      tx.groups.allocateSeqs(
        new Map([
          [g1.id, 2],
          [g2.id, 5],
        ]),
      ),
    );
    expect(Object.fromEntries(lasts)).toEqual({ [g1.id]: 5, [g2.id]: 5 });
    expect(
      (await storage.groups.lastSeqs([g1.id, g2.id])).sort((x, y) => x.groupId.localeCompare(y.groupId)),
    ).toEqual(
      [
        { groupId: g1.id, lastSeq: 5 },
        { groupId: g2.id, lastSeq: 5 },
      ].sort((x, y) => x.groupId.localeCompare(y.groupId)),
    );
  });

  it('rolls a failed transaction back completely', async () => {
    const { account: a } = await account();
    const g = await group([a.id]);
    await expect(
      storage.transaction(async (tx) => {
        await tx.groups.allocateSeq(g.id, 1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await storage.groups.byId(g.id))?.lastSeq).toBe(0);
  });

  it('finds stored sends by client key, and membership pairs, exactly', async () => {
    const { account: a, device } = await account();
    const { account: b } = await account();
    const g = await group([a.id]);
    await storage.entries.insert([entry(g.id, 1, device.id), entry(g.id, 2, device.id)]);
    const found = await storage.entries.storedSends([
      { senderDeviceId: device.id, clientMsgId: 'c2' },
      { senderDeviceId: device.id, clientMsgId: 'c9' },
      { senderDeviceId: 'd_other', clientMsgId: 'c1' },
    ]);
    expect(found).toEqual([{ senderDeviceId: device.id, clientMsgId: 'c2', target: g.id, seq: 2 }]);
    const pairs = await storage.groups.memberPairs([
      { groupId: g.id, accountId: a.id },
      { groupId: g.id, accountId: b.id },
    ]);
    expect(pairs).toEqual([{ groupId: g.id, accountId: a.id }]);
  });

  it('moves cursors forward only; a device without a cursor starts before its join', async () => {
    const { account: a, device } = await account();
    const g = await group([a.id]);
    expect(await storage.groups.membershipOfDevice(device.id, g.id)).toEqual({
      groupId: g.id,
      lastSeq: 0,
      ackedSeq: 0,
    });
    await storage.cursors.advance([{ deviceId: device.id, groupId: g.id, ackedSeq: 7 }]);
    await storage.cursors.advance([{ deviceId: device.id, groupId: g.id, ackedSeq: 3 }]);
    expect((await storage.groups.membershipsOfDevice(device.id, a.id))[0]?.ackedSeq).toBe(7);
    await storage.cursors.start([device.id], g.id, 2);
    expect((await storage.groups.membershipOfDevice(device.id, g.id))?.ackedSeq).toBe(2);
  });

  it('prunes exactly what every member device has, and what is older than the cutoff', async () => {
    const { account: a, device: da } = await account();
    const { account: b, device: db } = await account();
    const g = await group([a.id, b.id]);
    await storage.entries.insert([1, 2, 3, 4, 5].map((s) => entry(g.id, s, da.id)));
    await storage.cursors.advance([
      { deviceId: da.id, groupId: g.id, ackedSeq: 4 },
      { deviceId: db.id, groupId: g.id, ackedSeq: 2 },
    ]);
    await storage.entries.prune(0);
    expect((await storage.entries.range(g.id, 0, 10)).map((e) => e.seq)).toEqual([3, 4, 5]);
    // The age cutoff applies to every group (other tests' entries are as old): look at this one.
    expect(await storage.entries.prune(1000 + 4)).toBeGreaterThanOrEqual(1);
    expect((await storage.entries.range(g.id, 0, 10)).map((e) => e.seq)).toEqual([4, 5]);
  });

  it('counts rate-limit hits per window', async () => {
    const key = id('rl');
    expect(await storage.rateLimits.hit(key, 1000, 100)).toBe(1);
    expect(await storage.rateLimits.hit(key, 1050, 100)).toBe(2);
    expect(await storage.rateLimits.hit(key, 1101, 100)).toBe(1);
  });

  it('keeps the first sighting of an address and moves the last', async () => {
    const { account: a, device } = await account();
    await storage.connections.record([{ deviceId: device.id, accountId: a.id, ip: '203.0.113.7', at: 10 }]);
    await storage.connections.record([{ deviceId: device.id, accountId: a.id, ip: '203.0.113.7', at: 50 }]);
    expect(await storage.connections.byAccount(a.id)).toEqual([
      { deviceId: device.id, accountId: a.id, ip: '203.0.113.7', at: 50 },
    ]);
  });

  it('deletes acknowledged mailbox items only', async () => {
    const { device } = await account();
    const item = (seq: number) => ({
      deviceId: device.id,
      seq,
      senderAccountId: 'u',
      senderDeviceId: 'd',
      clientMsgId: `m${seq}`,
      payload: new Uint8Array([seq]),
      createdAt: 1,
    });
    await storage.mailbox.insert([item(1), item(2), item(3)]);
    await storage.mailbox.deleteUpTo(device.id, 2);
    expect((await storage.mailbox.range(device.id, 0, 10)).map((m) => m.seq)).toEqual([3]);
  });

  it('behaves like a model under random cursor moves (property)', async () => {
    const { account: a, device } = await account();
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('advance' as const), seq: fc.nat(50) }),
            fc.record({ op: fc.constant('start' as const), seq: fc.nat(50) }),
          ),
          { maxLength: 12 },
        ),
        async (ops) => {
          const g = await group([a.id]);
          let model = 0;
          for (const o of ops) {
            if (o.op === 'advance') {
              await storage.cursors.advance([{ deviceId: device.id, groupId: g.id, ackedSeq: o.seq }]);
              model = Math.max(model, o.seq);
            } else {
              await storage.cursors.start([device.id], g.id, o.seq);
              model = o.seq;
            }
          }
          expect((await storage.groups.membershipOfDevice(device.id, g.id))?.ackedSeq).toBe(model);
        },
      ),
      { numRuns: 20 },
    );
  });
});
