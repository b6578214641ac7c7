import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory/memory-bus.ts';
import { DEFAULT_PRIVACY, type Storage, type Stores } from '../storage/ports.ts';
import { openSqliteStorage } from '../storage/sqlite/open-storage.ts';
import { DeliveryService } from './delivery-service.ts';

/** What one transaction of the delivery service wrote. */
interface Written {
  appends: number;
  cursors: number;
}

/** A SQLite storage whose transactions report what they wrote. */
function recording(storage: Storage, log: Written[]): Storage {
  return Object.assign(Object.create(storage) as Storage, {
    transaction: <T>(work: (stores: Stores) => Promise<T>) =>
      storage.transaction((tx) => {
        const written: Written = { appends: 0, cursors: 0 };
        log.push(written);
        const entries = Object.create(tx.entries) as Stores['entries'];
        entries.insert = (rows) => {
          written.appends += rows.length;
          return tx.entries.insert(rows);
        };
        const cursors = Object.create(tx.cursors) as Stores['cursors'];
        cursors.advance = (updates) => {
          written.cursors += updates.length;
          return tx.cursors.advance(updates);
        };
        return work({ ...tx, entries, cursors });
      }),
  });
}

const turn = () => new Promise((r) => setImmediate(r));

async function open() {
  const storage = await openSqliteStorage({ path: ':memory:' });
  for (const [id, phone] of [
    ['a1', '+15550000001'],
    ['a2', '+15550000002'],
  ] as const) {
    await storage.accounts.insert({
      id,
      phone,
      username: null,
      displayName: '',
      createdAt: 1,
      lastSeenDay: null,
      privacy: DEFAULT_PRIVACY,
    });
    await storage.devices.insert({
      id: `d${id}`,
      accountId: id,
      name: 'phone',
      createdAt: 1,
      lastSeenAt: null,
    });
  }
  await storage.groups.insert({
    id: 'g',
    kind: 'group',
    title: 'g',
    createdBy: 'a1',
    createdAt: 1,
    lastSeq: 0,
    memberCount: 2,
    directKey: null,
  });
  await storage.groups.insertMembers(
    ['a1', 'a2'].map((accountId) => ({
      groupId: 'g',
      accountId,
      role: 'member' as const,
      joinedAt: 1,
      joinedSeq: 1,
      consent: 'accepted' as const,
    })),
  );
  return storage;
}

type Op = { kind: 'send'; from: 'a1' | 'a2' } | { kind: 'ack'; device: 'da1' | 'da2' } | { kind: 'turn' };

describe('DeliveryService group commit', () => {
  const opened: Storage[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });

  it('commits appends without acknowledgements, accepts each once in order, and writes every acknowledgement', async () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), from: fc.constantFrom('a1' as const, 'a2' as const) }),
      fc.record({
        kind: fc.constant('ack' as const),
        device: fc.constantFrom('da1' as const, 'da2' as const),
      }),
      fc.constant({ kind: 'turn' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const storage = await open();
        opened.push(storage);
        const log: Written[] = [];
        const delivery = new DeliveryService(
          recording(storage, log),
          new MemoryBus(),
          { now: () => 5_000 },
          pino({ level: 'silent' }),
          1,
        );
        const accepted: Promise<{ seq: number; duplicate: boolean }>[] = [];
        const acked = new Map<string, number>();
        let sent = 0;
        for (const o of ops) {
          if (o.kind === 'send') {
            sent += 1;
            accepted.push(
              delivery.appendToGroup(
                { accountId: o.from, deviceId: `d${o.from}` },
                'g',
                `m${sent}`,
                Uint8Array.of(sent),
              ),
            );
          } else if (o.kind === 'ack') {
            // Acknowledges what could have been delivered so far (the cursor never moves back).
            acked.set(o.device, Math.max(acked.get(o.device) ?? 0, sent));
            delivery.ack(o.device, 'g', sent);
          } else {
            await turn();
          }
        }
        const seqs = (await Promise.all(accepted)).map((a) => a.seq);
        await delivery.drain();
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        expect(log.every((w) => w.appends === 0 || w.cursors === 0)).toBe(true);
        expect(log.reduce((n, w) => n + w.appends, 0)).toBe(sent);
        for (const [device, seq] of acked) {
          expect((await storage.groups.membershipOfDevice(device, 'g'))?.ackedSeq).toBe(Math.max(seq, 0));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('writes acknowledgements while appends keep coming (they take turns)', async () => {
    const storage = await open();
    opened.push(storage);
    const log: Written[] = [];
    const delivery = new DeliveryService(
      recording(storage, log),
      new MemoryBus(),
      { now: () => 5_000 },
      pino({ level: 'silent' }),
      1,
    );
    delivery.ack('da2', 'g', 0);
    await delivery.appendToGroup({ accountId: 'a1', deviceId: 'da1' }, 'g', 'first', Uint8Array.of(1));
    delivery.ack('da2', 'g', 1);
    // A new append every turn, for longer than the lazy delay: the acknowledgement must not wait for the end.
    let i = 0;
    const deadline = Date.now() + 50;
    while (Date.now() < deadline || i < 20) {
      i += 1;
      void delivery.appendToGroup({ accountId: 'a1', deviceId: 'da1' }, 'g', `m${i}`, Uint8Array.of(1));
      await turn();
      if (log.some((w) => w.cursors > 0)) break;
    }
    expect(log.some((w) => w.cursors > 0)).toBe(true);
    await delivery.drain();
    expect((await storage.groups.membershipOfDevice('da2', 'g'))?.ackedSeq).toBe(1);
  });
});
