/**
 * `channel`: post fan-out of a broadcast channel (issue 16). N subscribers (10,000 by default) are
 * connected; the owner posts P signed posts at a fixed rate. Each subscriber behaves as the SDK's
 * ChannelClient: the server pushes each small post in its one `channel_posted` frame (encoded once
 * per post, the same bytes to every subscriber); the subscriber takes the post that follows its
 * cursor, reads any gap (or a post sent as a signal only) from its cursor over HTTP, and moves its
 * subscription cursor over the socket (`channel_read`, coalesced over 1–3 s as the SDK does). Figures: when
 * the last subscriber has each post (p50/p99 over the posts, send to last arrival), deliveries per
 * second and server CPU per delivery, and the count of deliveries (each subscriber must have each
 * post exactly once, or the run fails loudly). Signatures are checked with `--verify-signatures`
 * (the load client shares the two cores with the server; the SDK always checks them).
 */
import {
  type ChannelPostsPage,
  decodeBase64,
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  PROTOCOL_VERSION,
  type ServerFrame,
  verifyChannelPost,
} from '@courier/protocol';
import { ChannelClient, MemoryChannelKeyring } from '@courier/sdk';
import WebSocket from 'ws';
import type { BenchServer } from './bench-server.ts';
import { DecodeOnce } from './decode-once.ts';
import { type Figure, progress, round } from './figure.ts';
import { now } from './lean-client.ts';
import { cpuMicros, percentile } from './server-proc.ts';
import { SlotTimers } from './slot-timers.ts';

export interface ChannelParams {
  subscribers: number;
  posts: number;
  rate: number;
  /** Check each post's signature in the load client, as the SDK does. */
  verify: boolean;
  /**
   * The load client decodes each distinct frame once for all its subscribers (bench/decode-once.ts),
   * as its W2 floor does; false (`--decode-every-frame`): every subscriber decodes its own, on both.
   */
  decodeOnce: boolean;
}

export const CHANNEL_DEFAULTS: ChannelParams = {
  subscribers: 10_000,
  posts: 20,
  rate: 1,
  verify: false,
  decodeOnce: true,
};

export const CHANNEL_FIGURES = [
  'last_subscriber_p50_ms',
  'last_subscriber_p99_ms',
  'deliveries_per_s',
  'server_cpu_us_per_delivery',
  'post_accepted_p50_ms',
  'deliveries',
  'http_reads',
];

/** How long a subscriber coalesces its cursor moves before one `channel_read` frame (the SDK's channelReadDelayMs). */
const READ_DELAY_MS = 2000;

/**
 * The subscribers' `channel_read` frames: each subscriber's newest cursor, sent after its first
 * unacknowledged post with a wait of 0.5–1.5 × READ_DELAY_MS, as the SDK's per-connection delay does
 * (drawn at random there; here the subscribers are spread evenly over SLOTS timers, so that one timer
 * serves many subscribers of the load process), and a frame for the same channel and position is
 * encoded once.
 */
class ReadFlusher {
  private readonly timers: SlotTimers<Subscriber>;
  private readonly encoded = new Map<number, Uint8Array>();
  private readonly slotOf = new Map<Subscriber, number>();

  constructor(channelId: string) {
    this.timers = new SlotTimers<Subscriber>(
      (_lastFlushAt, spread) => READ_DELAY_MS * (0.5 + spread),
      (subscriber) => {
        let bytes = this.encoded.get(subscriber.position);
        if (!bytes) {
          bytes = encodeClientFrame({ type: 'channel_read', channelId, seq: subscriber.position });
          this.encoded.set(subscriber.position, bytes);
        }
        subscriber.sendRaw(bytes);
      },
    );
  }

  later(subscriber: Subscriber): void {
    let slot = this.slotOf.get(subscriber);
    if (slot === undefined) {
      slot = this.timers.slot();
      this.slotOf.set(subscriber, slot);
    }
    this.timers.later(subscriber, slot);
  }

  close(): void {
    this.timers.close();
  }
}

/** One subscriber: a gateway connection that takes pushed posts and reads gaps from its cursor. */
class Subscriber {
  private ws: WebSocket | undefined;
  private cursor = 0;
  private reading = false;
  private again = false;
  /** Posts this subscriber had, and how often (each must be 1). */
  readonly had = new Map<string, number>();
  httpReads = 0;
  badSignatures = 0;
  onPost: (postId: string, at: number) => void = () => {};

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly channelId: string,
    private readonly publicKey: Uint8Array | undefined,
    private readonly reads: ReadFlusher,
    private readonly frames: DecodeOnce<ServerFrame> | undefined,
  ) {}

  get position(): number {
    return this.cursor;
  }

  sendRaw(bytes: Uint8Array): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

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
        const frame = this.frames ? this.frames.get(data as Buffer) : decodeServerFrame(data as Buffer);
        if (frame.type === 'ready') resolve();
        else if (frame.type === 'channel_posted' && frame.channelId === this.channelId) {
          if (frame.seq <= this.cursor) return;
          const post = frame.post;
          if (post && post.seq === this.cursor + 1 && !this.reading) {
            const at = now();
            if (
              this.publicKey &&
              !verifyChannelPost(this.publicKey, { channelId: this.channelId, ...post }, post.signature)
            )
              this.badSignatures += 1;
            this.take(post.postId, post.seq, at);
            this.reads.later(this);
          } else void this.read();
        }
      });
    });
  }

  private take(postId: string, seq: number, at: number): void {
    this.had.set(postId, (this.had.get(postId) ?? 0) + 1);
    this.cursor = Math.max(this.cursor, seq);
    this.onPost(postId, at);
  }

  /** A gap, or a post sent as a signal only: read from the cursor over HTTP (this moves the cursor too). */
  private async read(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        this.httpReads += 1;
        const response = await fetch(
          new URL(`/v1/channels/${this.channelId}/posts?after=${this.cursor}&limit=100`, this.baseUrl),
          { headers: { authorization: `Bearer ${this.token}` } },
        );
        const page = (await response.json()) as ChannelPostsPage;
        const at = now();
        for (const post of page.posts) {
          if (post.seq <= this.cursor) continue;
          if (this.publicKey) {
            const body = decodeBase64(post.body) ?? new Uint8Array();
            const signature = decodeBase64(post.signature) ?? new Uint8Array();
            const fields = { channelId: this.channelId, ...post, body };
            if (!verifyChannelPost(this.publicKey, fields, signature)) this.badSignatures += 1;
          }
          this.take(post.postId, post.seq, at);
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
  const registering = now();
  const users = await server.register(p.subscribers + 1);
  progress(`channel: registered ${users.length} accounts in ${round((now() - registering) / 1000, 1)} s`);
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
  progress(`channel: subscribed in ${round((now() - registering) / 1000, 1)} s from the start`);
  const publicKey = p.verify ? decodeBase64(channel.publicKey) : undefined;
  const reads = new ReadFlusher(channel.channelId);
  const frames = p.decodeOnce ? new DecodeOnce(decodeServerFrame) : undefined;
  const clients = subscribers.map(
    (u) => new Subscriber(server.url, u.token, channel.channelId, publicKey, reads, frames),
  );
  progress(`channel: connecting ${p.subscribers}`);
  for (let i = 0; i < clients.length; i += 100)
    await Promise.all(clients.slice(i, i + 100).map((c) => c.connect()));
  progress(`channel: connected in ${round((now() - registering) / 1000, 1)} s from the start`);
  await new Promise((r) => setTimeout(r, 2000));

  const arrivals = new Map<string, { count: number; last: number }>();
  const sentAt = new Map<string, number>();
  /** Send → the owner's reply (the post is durable): the part of the latency before any fan-out. */
  const accepted: number[] = [];
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
  // A text post of about W2's 200 bytes.
  const filler = 'x'.repeat(140);
  for (let m = 0; m < p.posts; m++) {
    const wait = start + (m * 1000) / p.rate - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = now();
    posting.push(
      owner
        .post(channel.channelId, { v: 1, type: 'text', text: `post ${m} ${filler}`, sentAtMs: Date.now() })
        .then((post) => {
          sentAt.set(post.postId, t);
          accepted.push(now() - t);
        }),
    );
  }
  await Promise.all(posting);
  const complete = () => [...arrivals.entries()].filter(([, r]) => r.count >= p.subscribers);
  const deadline = now() + 120_000;
  while (complete().length < p.posts && now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const end = Math.max(0, ...[...arrivals.values()].map((r) => r.last));
  // The cursor moves of the last posts reach the store a little later: their CPU is counted too.
  await new Promise((r) => setTimeout(r, 1.5 * READ_DELAY_MS + 800));
  const cpu = cpuMicros(server.pid) - cpu0;
  reads.close();
  for (const c of clients) c.close();
  // Every subscriber must have every post, once: counted here, and the run fails loudly otherwise.
  let deliveries = 0;
  let duplicates = 0;
  let badSignatures = 0;
  let httpReads = 0;
  for (const c of clients) {
    for (const postId of sentAt.keys()) {
      const times = c.had.get(postId) ?? 0;
      if (times >= 1) deliveries += 1;
      if (times > 1) duplicates += times - 1;
    }
    badSignatures += c.badSignatures;
    httpReads += c.httpReads;
  }
  const expected = p.subscribers * p.posts;
  const done = complete();
  const problems = [
    ...(done.length < p.posts
      ? [`only ${done.length} of ${p.posts} posts reached all ${p.subscribers} subscribers in time`]
      : []),
    ...(deliveries < expected ? [`${expected - deliveries} of ${expected} deliveries missing`] : []),
    ...(duplicates > 0 ? [`${duplicates} deliveries came twice`] : []),
    ...(badSignatures > 0 ? [`${badSignatures} posts failed their signature check`] : []),
  ];
  const counts: Figure[] = [
    {
      bench,
      figure: 'post_accepted_p50_ms',
      value: round(percentile(accepted, 50), 1),
      unit: 'ms',
      params,
      storage,
    },
    {
      bench,
      figure: 'deliveries',
      value: deliveries,
      unit: 'deliveries',
      params,
      storage,
      target: `= ${expected}`,
    },
    { bench, figure: 'http_reads', value: httpReads, unit: 'requests', params, storage },
  ];
  if (problems.length > 0) {
    const error = problems.join('; ');
    progress(`channel: FAILED: ${error}`);
    return [
      ...CHANNEL_FIGURES.slice(0, 4).map((figure) => ({
        bench,
        figure,
        value: null,
        unit: '',
        params,
        storage,
        error,
      })),
      ...counts.map((c) => ({ ...c, error })),
    ];
  }
  const lasts = done.map(([postId, r]) => r.last - sentAt.get(postId)!);
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
      value: round(expected / ((end - start) / 1000), 0),
      unit: 'deliveries/s',
      params,
      storage,
    },
    {
      bench,
      figure: 'server_cpu_us_per_delivery',
      value: round(cpu / expected, 2),
      unit: 'us',
      params,
      storage,
    },
    ...counts,
  ];
}
