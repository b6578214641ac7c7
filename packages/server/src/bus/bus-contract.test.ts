import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { connect as connectNats } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { NATS_URL } from '../../../../test/support/postgres.ts';
import { MemoryBus } from './memory/memory-bus.ts';
import { NatsBus } from './nats/nats-bus.ts';
import type { Bus, BusSignal } from './ports.ts';

/**
 * One contract for every bus: a published signal reaches every subscriber exactly once, its own
 * node included; signals from one publisher arrive in the order they were published; close()
 * stops delivery. NATS is also checked as a cluster of nodes (one connection each) on a subject
 * unique to this run. The NATS suite is never skipped: without a server it fails, saying so.
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function connectNatsBus(subject: string, onError?: (error: unknown) => void): Promise<NatsBus> {
  try {
    return await NatsBus.connect({
      servers: [NATS_URL],
      subject,
      name: 'courier-bus-contract',
      ...(onError ? { onError } : {}),
    });
  } catch (error) {
    throw new Error(
      `NATS is not reachable at ${NATS_URL}. These tests need it (CI starts it); start nats-server ` +
        'on 127.0.0.1:4222, or point COURIER_TEST_NATS_URL at one.',
      { cause: error },
    );
  }
}

/** Signals used to find out that a subscription is live; never counted. */
const PROBE = 'probe:';
const isProbe = (s: BusSignal) => s.type === 'devices_revoked' && s.deviceIds[0]?.startsWith(PROBE) === true;

/** Everything one subscription received, probes aside. */
class Recorder {
  readonly signals: BusSignal[] = [];
  readonly probes = new Set<string>();
  private waiters: (() => void)[] = [];

  constructor(bus: Bus) {
    bus.subscribe((signal) => {
      if (isProbe(signal)) this.probes.add((signal as { deviceIds: string[] }).deviceIds[0]!);
      else this.signals.push(signal);
      for (const w of this.waiters) w();
    });
  }

  /** Resolves once `count` signals arrived; then waits `settleMs` more and checks that no more did. */
  async exactly(count: number, settleMs = 150): Promise<BusSignal[]> {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.signals.length >= count) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      const timer = setTimeout(
        () => reject(new Error(`received ${this.signals.length} of ${count} signals`)),
        5_000,
      );
      this.waiters.push(check);
      check();
    });
    await sleep(settleMs);
    expect(this.signals).toHaveLength(count);
    return this.signals;
  }
}

/**
 * A subscription on NATS is registered with the server asynchronously: publish probes from each
 * publisher until every recorder has seen one, so that what follows is not published too early.
 */
async function untilLive(publishers: Bus[], recorders: Recorder[]): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const tags = publishers.map((_, i) => `${PROBE}${i}:${randomBytes(4).toString('hex')}`);
    for (const [i, bus] of publishers.entries())
      await bus.publish({ type: 'devices_revoked', deviceIds: [tags[i]!] });
    await sleep(20);
    if (recorders.every((r) => tags.every((t) => r.probes.has(t)))) return;
    if (Date.now() > deadline) throw new Error('subscriptions did not become live within 5 s');
  }
}

const examples: BusSignal[] = [
  {
    type: 'groups_appended',
    groups: [
      ['g_a', 3],
      ['g_b', 2 ** 40],
    ],
  },
  { type: 'mailboxes_appended', devices: [['d_a', 1]] },
  { type: 'membership_changed', groupId: 'g_a', accountIds: ['u_1', 'u_2'] },
  { type: 'devices_revoked', deviceIds: ['d_9'] },
];

const numbered = (n: number): BusSignal => ({ type: 'groups_appended', groups: [['g_order', n]] });

interface BusAdapter {
  name: string;
  /** A node's bus; nodes of one test share a cluster (for NATS: a subject unique to the test). */
  cluster(onError?: (error: unknown) => void): { node(): Promise<Bus> };
}

const adapters: BusAdapter[] = [
  {
    name: 'memory',
    cluster: (onError) => ({ node: async () => new MemoryBus(onError) }),
  },
  {
    name: 'nats',
    cluster: (onError) => {
      const subject = `courier.test.bus.${randomBytes(8).toString('hex')}`;
      return { node: () => connectNatsBus(subject, onError) };
    },
  },
];

describe.each(adapters)('bus contract: $name', (adapter) => {
  const opened: Bus[] = [];
  afterEach(async () => {
    for (const bus of opened.splice(0)) await bus.close().catch(() => {});
  });
  const node = async (cluster: { node(): Promise<Bus> }) => {
    const bus = await cluster.node();
    opened.push(bus);
    return bus;
  };

  it('gives every subscriber of a node every signal once, its own node’s included', async () => {
    const bus = await node(adapter.cluster());
    const recorders = [new Recorder(bus), new Recorder(bus), new Recorder(bus)];
    await untilLive([bus], recorders);
    for (const s of examples) await bus.publish(s);
    for (const r of recorders) expect(await r.exactly(examples.length)).toEqual(examples);
  });

  it('keeps the order of one publisher', async () => {
    const bus = await node(adapter.cluster());
    const recorder = new Recorder(bus);
    await untilLive([bus], [recorder]);
    for (let n = 1; n <= 500; n++) await bus.publish(numbered(n));
    expect(await recorder.exactly(500, 50)).toEqual(Array.from({ length: 500 }, (_, i) => numbered(i + 1)));
  });

  it('carries large signals and any text in ids intact', async () => {
    const bus = await node(adapter.cluster());
    const recorder = new Recorder(bus);
    await untilLive([bus], [recorder]);
    const large: BusSignal = {
      type: 'membership_changed',
      groupId: 'g_big',
      accountIds: Array.from({ length: 5_000 }, (_, i) => `acc_${String(i).padStart(26, '0')}`),
    };
    const odd = fc.sample(
      fc
        .string({ unit: 'binary', maxLength: 20 })
        .map((id): BusSignal => ({ type: 'devices_revoked', deviceIds: [`x${id}`] })),
      { numRuns: 50, seed: 42 },
    );
    await bus.publish(large);
    for (const s of odd) await bus.publish(s);
    expect(await recorder.exactly(1 + odd.length, 50)).toEqual([large, ...odd]);
  });

  it('goes on delivering, to that subscriber and the others, after a subscriber throws (which it reports)', async () => {
    const errors: unknown[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    try {
      const bus = await node(adapter.cluster((error) => errors.push(error)));
      let thrown = 0;
      bus.subscribe((signal) => {
        if (!isProbe(signal)) {
          thrown += 1;
          throw new Error('a subscriber failed');
        }
      });
      const recorder = new Recorder(bus);
      await untilLive([bus], [recorder]);
      for (const s of examples) await bus.publish(s);
      expect(await recorder.exactly(examples.length)).toEqual(examples);
      expect(thrown).toBe(examples.length);
      expect(errors).toHaveLength(examples.length);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    }
  });

  it('stops delivering once closed', async () => {
    const cluster = adapter.cluster();
    const bus = await node(cluster);
    const recorder = new Recorder(bus);
    await untilLive([bus], [recorder]);
    await bus.publish(examples[0]!);
    await recorder.exactly(1, 0);
    await bus.close();
    // Published after close (on NATS the publish itself may be refused): nobody hears it.
    await bus.publish(examples[1]!).catch(() => {});
    await sleep(150);
    expect(recorder.signals).toEqual([examples[0]]);
  });
});

describe('bus contract: NATS as a cluster of nodes', () => {
  const opened: Bus[] = [];
  afterEach(async () => {
    for (const bus of opened.splice(0)) await bus.close().catch(() => {});
  });
  const nodes = async (count: number, subject = `courier.test.bus.${randomBytes(8).toString('hex')}`) => {
    const buses = await Promise.all(Array.from({ length: count }, () => connectNatsBus(subject)));
    opened.push(...buses);
    return buses;
  };

  it('delivers a signal published on one node to every node once, the publisher included', async () => {
    const [a, b, c] = await nodes(3);
    const recorders = [new Recorder(a!), new Recorder(b!), new Recorder(b!), new Recorder(c!)];
    await untilLive([a!], recorders);
    for (const s of examples) await a!.publish(s);
    for (const r of recorders) expect(await r.exactly(examples.length)).toEqual(examples);
  });

  it('keeps each publisher’s order on every node while two nodes publish at once', async () => {
    const [a, b] = await nodes(2);
    const recorders = [new Recorder(a!), new Recorder(b!)];
    await untilLive([a!, b!], recorders);
    const from = (origin: string, n: number): BusSignal => ({
      type: 'groups_appended',
      groups: [[origin, n]],
    });
    const publishAll = async (bus: Bus, origin: string) => {
      for (let n = 1; n <= 300; n++) await bus.publish(from(origin, n));
    };
    await Promise.all([publishAll(a!, 'g_from_a'), publishAll(b!, 'g_from_b')]);
    for (const r of recorders) {
      const got = await r.exactly(600, 50);
      for (const origin of ['g_from_a', 'g_from_b']) {
        const mine = got.flatMap((s) =>
          s.type === 'groups_appended' && s.groups[0]![0] === origin ? [s] : [],
        );
        expect(mine).toEqual(Array.from({ length: 300 }, (_, i) => from(origin, i + 1)));
      }
    }
  });

  it('keeps delivering to the other nodes after one node closes', async () => {
    const [a, b] = await nodes(2);
    const onA = new Recorder(a!);
    const onB = new Recorder(b!);
    await untilLive([a!], [onA, onB]);
    await b!.close();
    for (const s of examples) await a!.publish(s);
    expect(await onA.exactly(examples.length)).toEqual(examples);
    expect(onB.signals).toEqual([]);
  });

  it('does not hear another cluster on another subject', async () => {
    const [a] = await nodes(1);
    const [stranger] = await nodes(1);
    const onA = new Recorder(a!);
    const onStranger = new Recorder(stranger!);
    await untilLive([a!], [onA]);
    await untilLive([stranger!], [onStranger]);
    await stranger!.publish(examples[3]!);
    await a!.publish(examples[0]!);
    expect(await onA.exactly(1)).toEqual([examples[0]]);
    expect(await onStranger.exactly(1, 0)).toEqual([examples[3]]);
  });

  it('drops malformed messages on the subject and goes on delivering', async () => {
    const subject = `courier.test.bus.${randomBytes(8).toString('hex')}`;
    const [a] = await nodes(1, subject);
    const recorder = new Recorder(a!);
    await untilLive([a!], [recorder]);
    const raw = await connectNats({ servers: [NATS_URL] });
    try {
      const garbage = [
        new Uint8Array([0xff, 0xfe, 0x00, 0x01]),
        new TextEncoder().encode('{"type":"groups_appended","groups":[["g",1.5]]}'),
        new TextEncoder().encode('{"type":"groups_appended"'),
        new Uint8Array(),
        new TextEncoder().encode('{"type":"some_future_signal","x":1}'),
      ];
      for (const bytes of garbage) raw.publish(subject, bytes);
      raw.publish(subject, new TextEncoder().encode(JSON.stringify(examples[2])));
      await raw.flush();
    } finally {
      await raw.close();
    }
    expect(await recorder.exactly(1)).toEqual([examples[2]]);
  });
});
