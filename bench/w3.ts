import type { Figure } from './figure.ts';
import { now } from './lean-client.ts';
import { round } from './figure.ts';
import { median, rssKib } from './server-proc.ts';
import type { Target } from './target.ts';

export interface W3Params {
  connections: number;
  idleSeconds: number;
}

export const W3_DEFAULTS: W3Params = { connections: 10_000, idleSeconds: 10 };

async function sampleRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    samples.push(rssKib(pid));
    await new Promise((r) => setTimeout(r, 500));
  }
  return median(samples);
}

/** W3: memory per idle, authenticated connection, and how fast they connect. */
export async function runW3(server: Target, p: W3Params, bench = 'w3'): Promise<Figure[]> {
  const { storage } = server;
  const clients = await server.idle(p.connections);
  await new Promise((r) => setTimeout(r, 1000));
  const before = await sampleRss(server.pid);
  const t0 = now();
  for (let i = 0; i < clients.length; i += 100)
    await Promise.all(clients.slice(i, i + 100).map((c) => c.connect()));
  const connectSeconds = (now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, p.idleSeconds * 1000));
  const after = await sampleRss(server.pid);
  for (const c of clients) c.close();
  const params = { ...p };
  return [
    {
      bench,
      figure: 'server_kib_per_conn',
      value: round((after - before) / p.connections, 2),
      unit: 'KiB/conn',
      params,
      storage,
      target: '<= 20',
    },
    {
      bench,
      figure: 'connects_per_s',
      value: round(p.connections / connectSeconds, 0),
      unit: 'conn/s',
      params,
      storage,
    },
  ];
}
