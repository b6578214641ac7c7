/**
 * `channel`: post fan-out of a broadcast channel (issue 16). N subscribers (10,000 by default) are
 * connected; the owner posts P signed posts at a fixed rate; each subscriber hears the one
 * `channel_posted` frame the server encodes per post and reads the post from its cursor over HTTP,
 * as the SDK does. Figures: when the last subscriber has each post (p50/p99 over the posts, send to
 * last read), deliveries per second and server CPU per delivery. Subscribers do not check the
 * signatures here (the load client shares the two cores with the server; the SDK checks them).
 */
import {
  type ChannelPostsPage,
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  PROTOCOL_VERSION,
} from '@courier/protocol';
import { ChannelClient, MemoryChannelKeyring } from '@courier/sdk';
import WebSocket from 'ws';
import type { BenchServer } from './bench-server.ts';
import { type Figure, progress, round } from './figure.ts';
import { now } from './lean-client.ts';
import { cpuMicros, percentile } from './server-proc.ts';

export interface ChannelParams {
  subscribers: number;
  posts: number;
  rate: number;
}

export const CHANNEL_DEFAULTS: ChannelParams = { subscribers: 10_000, posts: 20, rate: 1 };

export const CHANNEL_FIGURES = [
  'last_subscriber_p50_ms',
  'last_subscriber_p99_ms',
  'deliveries_per_s',
  'server_cpu_us_per_delivery',
];

/** One subscriber: a gateway connection that reads the channel from its cursor on each signal. */
class Subscriber {
  private ws: WebSocket | undefined;
  private cursor = 0;
  private reading = false;
  private again = false;
  onPost: (postId: string, at: number) => void = () => {};

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly channelId: string,
  ) {}

  connect(): Promise<void> {
    const url = new URL(GATEWAY_PATH, this.baseUrl);
    url.protocol = 'ws:';
    const ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.on('open', () =>
        ws.send(
          encodeClientFrame({
            type: 'hello',
            protocolVersion: PROTOCOL_VERSION,
            token: this.token,
            client: 'bench',
          }),
        ),
      );
      ws.on('error', reject);
      ws.on('message', (data) => {
        const frame = decodeServerFrame(data as Buffer);
        if (frame.type === 'ready') resolve();
        else if (
          frame.type === 'channel_posted' &&
          frame.channelId === this.channelId &&
          frame.seq > this.cursor
        )
          void this.read();
      });
    });
  }

  private async read(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        const response = await fetch(
          new URL(`/v1/channels/${this.channelId}/posts?after=${this.cursor}&limit=100`, this.baseUrl),
          { headers: { authorization: `Bearer ${this.token}` } },
        );
        const page = (await response.json()) as ChannelPostsPage;
        const at = now();
        for (const post of page.posts) {
          this.onPost(post.postId, at);
          this.cursor = Math.max(this.cursor, post.seq);
        }
      } while (this.again);
    } finally {
      this.reading = false;
    }
  }

  close(): void {
    this.ws?.terminate();
  }
}

export async function runChannel(server: BenchServer, storage: string, p: ChannelParams): Promise<Figure[]> {
  const bench = 'channel';
  const params = { ...p };
  const users = await server.register(p.subscribers + 1);
  const owner = new ChannelClient(users[0]!.http, new MemoryChannelKeyring());
  const channel = await owner.create(`bench_${Date.now()}`, 'Bench', 'public');
  progress(`channel: subscribing ${p.subscribers}`);
  const subscribers = users.slice(1);
  for (let i = 0; i < subscribers.length; i += 64)
    await Promise.all(
      subscribers
        .slice(i, i + 64)
        .map((u) => u.http.call('POST', '/v1/channels/subscriptions', { name: channel.name })),
    );
  const clients = subscribers.map((u) => new Subscriber(server.url, u.token, channel.channelId));
  progress(`channel: connecting ${p.subscribers}`);
  for (let i = 0; i < clients.length; i += 100)
    await Promise.all(clients.slice(i, i + 100).map((c) => c.connect()));
  await new Promise((r) => setTimeout(r, 2000));

  const arrivals = new Map<string, { count: number; last: number }>();
  const sentAt = new Map<string, number>();
  for (const client of clients) {
    client.onPost = (postId, at) => {
      const record = arrivals.get(postId) ?? { count: 0, last: 0 };
      record.count += 1;
      record.last = Math.max(record.last, at);
      arrivals.set(postId, record);
    };
  }
  const cpu0 = cpuMicros(server.pid);
  const start = now();
  const posting: Promise<unknown>[] = [];
  for (let m = 0; m < p.posts; m++) {
    const wait = start + (m * 1000) / p.rate - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = now();
    posting.push(
      owner
        .post(channel.channelId, { v: 1, type: 'text', text: `post ${m}`, sentAtMs: Date.now() })
        .then((post) => {
          sentAt.set(post.postId, t);
        }),
    );
  }
  await Promise.all(posting);
  const complete = () => [...arrivals.entries()].filter(([, r]) => r.count >= p.subscribers);
  const deadline = now() + 120_000;
  while (complete().length < p.posts && now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const cpu = cpuMicros(server.pid) - cpu0;
  const end = Math.max(...[...arrivals.values()].map((r) => r.last));
  for (const c of clients) c.close();
  const done = complete();
  if (done.length < p.posts) {
    const error = `only ${done.length} of ${p.posts} posts reached all ${p.subscribers} subscribers in time`;
    return CHANNEL_FIGURES.map((figure) => ({
      bench,
      figure,
      value: null,
      unit: '',
      params,
      storage,
      error,
    }));
  }
  const lasts = done.map(([postId, r]) => r.last - sentAt.get(postId)!);
  const deliveries = p.subscribers * p.posts;
  return [
    {
      bench,
      figure: 'last_subscriber_p50_ms',
      value: round(percentile(lasts, 50), 1),
      unit: 'ms',
      params,
      storage,
    },
    {
      bench,
      figure: 'last_subscriber_p99_ms',
      value: round(percentile(lasts, 99), 1),
      unit: 'ms',
      params,
      storage,
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
      unit: 'us',
      params,
      storage,
    },
  ];
}
