import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NATS_URL } from '../../../../test/support/postgres.ts';
import { MemoryBus } from './memory/memory-bus.ts';
import { NatsBus } from './nats/nats-bus.ts';
import type { Bus, BusSignal } from './ports.ts';
import { parseSignal } from './signal-codec.ts';

const signals: BusSignal[] = [
  {
    type: 'groups_appended',
    groups: [
      ['g_a', 3],
      ['g_b', 9],
    ],
  },
  { type: 'mailboxes_appended', devices: [['d_a', 1]] },
  { type: 'membership_changed', groupId: 'g_a', accountIds: ['u_1', 'u_2'] },
  { type: 'devices_revoked', deviceIds: ['d_9'] },
];

async function collect(bus: Bus, count: number): Promise<BusSignal[]> {
  const got: BusSignal[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${count}`)), 5000);
    bus.subscribe((s) => {
      got.push(s);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

describe('bus contract', () => {
  it('memory: every subscriber gets every signal once, in order', async () => {
    const bus = new MemoryBus();
    const first = collect(bus, signals.length);
    const second = collect(bus, signals.length);
    for (const s of signals) await bus.publish(s);
    expect(await first).toEqual(signals);
    expect(await second).toEqual(signals);
    await bus.close();
  });

  it('NATS: a signal published on one node reaches every node once, in order', async () => {
    const subject = `courier.test.${randomBytes(6).toString('hex')}`;
    const [a, b] = await Promise.all([
      NatsBus.connect({ servers: [NATS_URL], subject }),
      NatsBus.connect({ servers: [NATS_URL], subject }),
    ]);
    try {
      const onA = collect(a, signals.length);
      const onB = collect(b, signals.length);
      await new Promise((r) => setTimeout(r, 100));
      for (const s of signals) await a.publish(s);
      expect(await onA).toEqual(signals);
      expect(await onB).toEqual(signals);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('decodes every signal it encodes and drops anything malformed without throwing', () => {
    for (const s of signals) expect(parseSignal(JSON.stringify(s))).toEqual(s);
    expect(parseSignal('{"type":"groups_appended","groups":[["g",1.5]]}')).toBeUndefined();
    expect(parseSignal('not json')).toBeUndefined();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const parsed = parseSignal(text);
          if (parsed) expect(JSON.parse(JSON.stringify(parsed))).toEqual(parsed);
        },
      ),
    );
  });
});
