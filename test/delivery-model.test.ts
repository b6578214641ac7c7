import { MemoryClientStore } from '@courier/sdk';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectDevice,
  nextPhone,
  startTestServer,
  type TestDevice,
  type TestServer,
  type TestUser,
  text,
  untext,
} from './support/harness.ts';

type Op =
  | { kind: 'send'; member: number; burst: number }
  | { kind: 'disconnect'; member: number }
  | { kind: 'reconnect'; member: number }
  | { kind: 'forget_acks'; member: number };

const MEMBERS = 3;
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      member: fc.nat(MEMBERS - 1),
      burst: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('disconnect' as const), member: fc.nat(MEMBERS - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('reconnect' as const), member: fc.nat(MEMBERS - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('forget_acks' as const), member: fc.nat(MEMBERS - 1) }),
  },
);

/**
 * The delivery state machine against a model: whatever interleaving of sends, disconnects,
 * reconnects and lost acknowledgements happens, every device ends with exactly the others'
 * messages, once each, in one global order that keeps each sender's order.
 */
describe('delivery state machine (property)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('delivers exactly once, in order, under any interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const users: TestUser[] = [];
        for (let i = 0; i < MEMBERS; i++) users.push(await server.register(nextPhone()));
        const group = await users[0]!.http.createGroup(
          'model',
          users.slice(1).map((u) => u.accountId),
        );
        const stores = users.map(() => new MemoryClientStore());
        const received: string[][] = users.map(() => []);
        const devices: (TestDevice | undefined)[] = [];
        const connect = async (m: number) => {
          const device = await connectDevice(server.url, users[m]!, { store: stores[m]! });
          devices[m] = device;
          return device;
        };
        for (let m = 0; m < MEMBERS; m++) await connect(m);
        const sent: string[][] = users.map(() => []);
        const pending: Promise<unknown>[] = [];
        const track = (p: Promise<unknown>) =>
          pending.push(
            p.catch((error: { code?: string }) => {
              // Stopped mid-flight: the message stays in the outbox and goes out on the next start.
              if (error.code !== 'CLIENT_STOPPED') throw error;
            }),
          );
        const offlineSends: { member: number; body: string }[] = [];
        let counter = 0;
        for (const o of ops) {
          const device = devices[o.member];
          if (o.kind === 'send') {
            for (let i = 0; i < o.burst; i++) {
              const body = `${o.member}:${counter++}`;
              sent[o.member]!.push(body);
              if (device) track(device.connection.send(group.groupId, text(body)));
              else offlineSends.push({ member: o.member, body });
            }
          } else if (o.kind === 'disconnect' && device) {
            await device.connection.stop();
            for (const e of device.entries)
              received[o.member]!.push(`${e.seq}|${untext(e.payload)}|${e.kind}`);
            devices[o.member] = undefined;
          } else if (o.kind === 'reconnect' && !device) {
            await connect(o.member);
            for (const s of offlineSends.filter((x) => x.member === o.member)) {
              track(devices[o.member]!.connection.send(group.groupId, text(s.body)));
            }
            offlineSends.splice(0, offlineSends.length, ...offlineSends.filter((x) => x.member !== o.member));
          } else if (o.kind === 'forget_acks' && device) {
            // The device drops off without a goodbye: acks not yet flushed are lost, its store keeps
            // what it handled, and it comes straight back.
            (device.connection as unknown as { socket?: { terminate(): void } }).socket?.terminate();
            await device.connection.stop();
            for (const e of device.entries)
              received[o.member]!.push(`${e.seq}|${untext(e.payload)}|${e.kind}`);
            devices[o.member] = undefined;
            await connect(o.member);
          }
        }
        for (let m = 0; m < MEMBERS; m++) {
          if (!devices[m]) {
            await connect(m);
            for (const s of offlineSends.filter((x) => x.member === m)) {
              track(devices[m]!.connection.send(group.groupId, text(s.body)));
            }
          }
        }
        await Promise.all(pending);
        for (let m = 0; m < MEMBERS; m++) {
          const expected = sent.filter((_, s) => s !== m).reduce((n, list) => n + list.length, 0);
          const already = received[m]!.filter((r) => r.endsWith('|message')).length;
          await devices[m]!.waitForMessages(expected - already);
          for (const e of devices[m]!.entries) received[m]!.push(`${e.seq}|${untext(e.payload)}|${e.kind}`);
          await devices[m]!.connection.stop();
        }
        const orderOf = (m: number) => received[m]!.filter((r) => r.endsWith('|message'));
        for (let m = 0; m < MEMBERS; m++) {
          const mine = orderOf(m);
          const seqs = mine.map((r) => Number(r.split('|')[0]));
          expect(new Set(seqs).size).toBe(seqs.length);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          for (let s = 0; s < MEMBERS; s++) {
            if (s === m) continue;
            const fromS = mine.map((r) => r.split('|')[1]!).filter((b) => b.startsWith(`${s}:`));
            expect(fromS).toEqual(sent[s]);
          }
        }
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
