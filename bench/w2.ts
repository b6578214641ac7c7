import type { Figure } from './figure.ts';
import { now, stampedPayload, stampOf } from './lean-client.ts';
import { round } from './figure.ts';
import { cpuMicros, percentile } from './server-proc.ts';
import type { Target } from './target.ts';

export interface W2Params {
  members: number;
  messages: number;
  rate: number;
  size: number;
  /** The load client decodes each distinct frame once for all its connections (the channel bench's shape). */
  decodeOnce?: boolean;
}

export const W2_DEFAULTS: Omit<W2Params, 'members'> = { messages: 50, rate: 10, size: 200 };

/** W2: one group of M connected members; one sends at a fixed rate; when has the last member it? */
export async function runW2(server: Target, p: W2Params, bench = 'w2'): Promise<Figure[]> {
  const { storage } = server;
  const { clients, groupId, joinSeconds } = await server.group(p.members, {
    decodeOnce: p.decodeOnce === true,
  });
  for (let i = 0; i < clients.length; i += 100)
    await Promise.all(clients.slice(i, i + 100).map((c) => c.connect()));
  // Let the roster history reach everyone before measuring.
  await new Promise((r) => setTimeout(r, 2000));

  const lastArrival = new Map<string, { count: number; last: number; sentAt: number }>();
  for (const client of clients.slice(1)) {
    client.onEntry = (entry) => {
      if (entry.kind !== 'message') return;
      const at = now();
      const record = lastArrival.get(entry.clientMsgId) ?? {
        count: 0,
        last: 0,
        sentAt: stampOf(entry.payload),
      };
      record.count += 1;
      record.last = Math.max(record.last, at);
      lastArrival.set(entry.clientMsgId, record);
    };
  }
  const cpu0 = cpuMicros(server.pid);
  const start = now();
  for (let m = 0; m < p.messages; m++) {
    const due = start + (m * 1000) / p.rate;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    void clients[0]!.send(groupId, `w2-${m}`, stampedPayload(groupId, p.size));
  }
  const expected = p.members - 1;
  const deadline = now() + 60_000;
  while (
    [...lastArrival.values()].filter((r) => r.count === expected).length < p.messages &&
    now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const end = Math.max(...[...lastArrival.values()].map((r) => r.last));
  const cpu = cpuMicros(server.pid) - cpu0;
  for (const c of clients) c.close();
  const complete = [...lastArrival.values()].filter((r) => r.count === expected);
  const params = { ...p };
  if (complete.length < p.messages) {
    const error = `only ${complete.length} of ${p.messages} messages reached all ${expected} members in time`;
    return [
      'last_recipient_p50_ms',
      'last_recipient_p99_ms',
      'deliveries_per_s',
      'server_cpu_us_per_delivery',
    ].map((figure) => ({ bench, figure, value: null, unit: '', params, storage, error }));
  }
  const lasts = complete.map((r) => r.last - r.sentAt);
  const deliveries = expected * p.messages;
  return [
    {
      bench,
      figure: 'last_recipient_p50_ms',
      value: round(percentile(lasts, 50), 1),
      unit: 'ms',
      params,
      storage,
    },
    {
      bench,
      figure: 'last_recipient_p99_ms',
      value: round(percentile(lasts, 99), 1),
      unit: 'ms',
      params,
      storage,
      target: '<= 300',
    },
    {
      bench,
      figure: 'deliveries_per_s',
      value: round(deliveries / ((end - start) / 1000), 0),
      unit: 'deliveries/s',
      params,
      storage,
    },
    {
      bench,
      figure: 'server_cpu_us_per_delivery',
      value: round(cpu / deliveries, 2),
      unit: 'us/delivery',
      params,
      storage,
    },
    // The floor has no groups to join: it has no join figure.
    ...(joinSeconds === null
      ? []
      : [{ bench, figure: 'join_s', value: round(joinSeconds, 2), unit: 's', params, storage }]),
  ];
}
