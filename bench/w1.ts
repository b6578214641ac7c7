import type { Figure } from './figure.ts';
import { now, stampedPayload, stampOf } from './lean-client.ts';
import { round } from './figure.ts';
import { cpuMicros, percentile } from './server-proc.ts';
import type { Target } from './target.ts';

export interface W1Params {
  pairs: number;
  warmup: number;
  messages: number;
  size: number;
}

export const W1_DEFAULTS: W1Params = { pairs: 100, warmup: 4000, messages: 20000, size: 200 };

/**
 * W1: every user of each pair sends to its partner in a closed loop (one message in flight: the
 * next goes once the partner has the previous one).
 */
export async function runW1(server: Target, p: W1Params, bench = 'w1'): Promise<Figure[]> {
  const { storage } = server;
  const { clients, chats } = await server.pairs(p.pairs);
  await Promise.all(clients.map((c) => c.connect()));
  const senders = clients.length;
  const latencies: number[] = [];
  let measuring = false;

  const phase = (perSender: number) =>
    Promise.all(
      clients.map((client, i) => {
        const partner = clients[i % 2 === 0 ? i + 1 : i - 1]!;
        const groupId = chats[Math.floor(i / 2)]!;
        return new Promise<void>((resolve, reject) => {
          let sent = 0;
          const next = () => {
            if (sent === perSender) return resolve();
            sent += 1;
            client
              .send(groupId, `m${i}-${sent}-${measuring ? 'm' : 'w'}`, stampedPayload(groupId, p.size))
              .catch(reject);
          };
          partner.onEntry = (entry) => {
            if (entry.kind !== 'message') return;
            if (measuring) latencies.push(now() - stampOf(entry.payload));
            next();
          };
          next();
        });
      }),
    );

  await phase(Math.ceil(p.warmup / senders));
  measuring = true;
  const cpu0 = cpuMicros(server.pid);
  const t0 = now();
  await phase(Math.ceil(p.messages / senders));
  const seconds = (now() - t0) / 1000;
  const cpu = cpuMicros(server.pid) - cpu0;
  for (const c of clients) c.close();
  const delivered = latencies.length;
  const params = { ...p, senders };
  return [
    {
      bench,
      figure: 'delivered_msg_per_s',
      value: round(delivered / seconds, 0),
      unit: 'msg/s',
      params,
      storage,
      target: '>= 12000',
    },
    {
      bench,
      figure: 'latency_p50_ms',
      value: round(percentile(latencies, 50), 2),
      unit: 'ms',
      params,
      storage,
    },
    {
      bench,
      figure: 'latency_p99_ms',
      value: round(percentile(latencies, 99), 2),
      unit: 'ms',
      params,
      storage,
      target: '<= 50',
    },
    {
      bench,
      figure: 'server_cpu_us_per_msg',
      value: round(cpu / delivered, 1),
      unit: 'us/msg',
      params,
      storage,
    },
  ];
}
