import type { Duplex } from 'node:stream';
import { decodeServerFrame } from '@courier/protocol';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { ChannelPostRow } from '../storage/ports.ts';
import { ChannelHub } from './channel-hub.ts';
import { ClientConnection } from './client-connection.ts';

/** A connection whose socket records what was written to it (framed once, or sent one by one). */
function connection(id: number) {
  const wires: Buffer[] = [];
  const sent: Uint8Array[] = [];
  /** Frame bodies in the order they were written, either way. */
  const all: Uint8Array[] = [];
  const ws = {
    send: (bytes: Uint8Array) => {
      sent.push(bytes);
      all.push(bytes);
    },
    bufferedAmount: 0,
    readyState: 1,
    OPEN: 1,
  } as unknown as WebSocket;
  const socket = {
    write: (wire: Buffer) => {
      wires.push(wire);
      const length = wire[1]! & 0x7f;
      all.push(wire.subarray(length < 126 ? 2 : length === 126 ? 4 : 10));
    },
  } as unknown as Duplex;
  const c = new ClientConnection(ws, `u_${id}`, `d_${id}`, 't', 1 << 20, () => {}, undefined, socket);
  /** Every frame this connection got, decoded, in order. */
  const frames = () => all.map((b) => decodeServerFrame(b));
  return { c, wires, sent, frames };
}

const row = (seq: number, bytes: number): ChannelPostRow => ({
  channelId: 'c_1',
  seq,
  firstSeq: seq,
  postId: `p${seq}`.padEnd(32, '_'),
  revision: 0,
  deleted: false,
  payload: new Uint8Array(bytes).fill(seq),
  signature: new Uint8Array(64).fill(7),
  authorAccountId: 'u_owner',
  createdAt: 1_000 + seq,
  editedAt: null,
  views: 0,
});

function hub(posts: ChannelPostRow[], pushBytes = 100) {
  let reads = 0;
  const channelHub = new ChannelHub({
    readPosts: async (_channelId, after) => {
      reads += 1;
      return posts.filter((p) => p.seq > after);
    },
    pushBytes,
    logger: pino({ level: 'silent' }),
  });
  return { channelHub, reads: () => reads };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('ChannelHub', () => {
  it('reads a new post once and writes the same framed bytes to every subscriber', async () => {
    const posts = [row(1, 50)];
    const { channelHub, reads } = hub(posts);
    const subscribers = Array.from({ length: 200 }, (_, i) => connection(i));
    for (const s of subscribers) channelHub.join(s.c, 'c_1', 0, 0);
    channelHub.onAppended('c_1', 1);
    await settle();
    expect(reads()).toBe(1);
    const first = subscribers[0]!.wires[0]!;
    for (const s of subscribers) {
      expect(s.wires).toHaveLength(1);
      // One buffer for all: encoded and framed once.
      expect(s.wires[0]).toBe(first);
      expect(s.sent).toHaveLength(0);
    }
    const [frame] = subscribers[0]!.frames();
    const post = frame?.type === 'channel_posted' ? frame.post : undefined;
    expect(frame).toMatchObject({ type: 'channel_posted', channelId: 'c_1', seq: 1 });
    expect({ ...post, body: [...(post?.body ?? [])], signature: [...(post?.signature ?? [])] }).toEqual({
      postId: posts[0]!.postId,
      seq: 1,
      revision: 0,
      deleted: false,
      body: [...posts[0]!.payload],
      signature: [...posts[0]!.signature],
      createdAtMs: 1_001,
      editedAtMs: null,
      views: 0,
    });
  });

  it('fans out a post this node committed from its row, without reading it back, and in order', async () => {
    const posts = [row(1, 50), row(2, 50), row(3, 50)];
    const { channelHub, reads } = hub(posts);
    const s = connection(1);
    channelHub.join(s.c, 'c_1', 0, 0);
    channelHub.onCommitted(posts[0]!);
    // The bus signal of the same post comes next: it finds the post known and reads nothing.
    channelHub.onAppended('c_1', 1);
    await settle();
    expect(reads()).toBe(0);
    // Post 2 was committed on another node and not yet read here: post 3, handed over, waits for it.
    channelHub.onCommitted(posts[2]!);
    await settle();
    expect(reads()).toBe(1);
    expect(s.frames().map((f) => f.type === 'channel_posted' && f.post?.seq)).toEqual([1, 2, 3]);
    // A post handed over again (a retried post) is not written twice.
    channelHub.onCommitted(posts[2]!);
    channelHub.onAppended('c_1', 3);
    await settle();
    expect(s.frames()).toHaveLength(3);
  });

  it('signals a large post without it, and a connection that joins or drains behind once', async () => {
    const posts = [row(1, 50), row(2, 500)];
    const { channelHub } = hub(posts);
    const live = connection(1);
    const paused = connection(2);
    channelHub.join(live.c, 'c_1', 0, 0);
    channelHub.join(paused.c, 'c_1', 0, 0);
    paused.c.pausedSince = 1;
    channelHub.onAppended('c_1', 2);
    await settle();
    expect(live.frames().map((f) => [f.type === 'channel_posted' && f.seq, 'post' in f])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(paused.frames()).toEqual([]);
    paused.c.pausedSince = 0;
    channelHub.resume(paused.c);
    expect(paused.frames()).toEqual([{ type: 'channel_posted', channelId: 'c_1', seq: 2 }]);
    const late = connection(3);
    channelHub.join(late.c, 'c_1', 1, 2);
    expect(late.frames()).toEqual([{ type: 'channel_posted', channelId: 'c_1', seq: 2 }]);
    // Up to date: a reload of the subscription says nothing more.
    channelHub.join(late.c, 'c_1', 0, 2);
    expect(late.frames()).toHaveLength(1);
    expect(channelHub.readableUpTo(late.c, 'c_1')).toBe(2);
    channelHub.leave(late.c, 'c_1');
    expect(channelHub.readableUpTo(late.c, 'c_1')).toBeUndefined();
  });

  it('a subscriber that takes the next pushed post and reads every gap has every post once, in order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              post: fc.integer({ min: 0, max: 200 }),
              // How this node hears of it: the bus signal, the hand-over of a post it committed, or both.
              via: fc.constantFrom('signal', 'handed', 'both'),
            }),
            fc.constant({ pause: true }),
            fc.constant({ resume: true }),
          ),
          { maxLength: 40 },
        ),
        async (ops) => {
          const posts: ChannelPostRow[] = [];
          const { channelHub } = hub(posts);
          const s = connection(1);
          channelHub.join(s.c, 'c_1', 0, 0);
          // The client as ChannelClient.attach: the next post is taken, a gap is read from the store.
          let cursor = 0;
          const had: number[] = [];
          let handled = 0;
          const handle = () => {
            for (const frame of s.frames().slice(handled)) {
              handled += 1;
              if (frame.type !== 'channel_posted' || frame.seq <= cursor) continue;
              if (frame.post && frame.post.seq === cursor + 1) {
                had.push(frame.post.seq);
                cursor = frame.post.seq;
              } else {
                for (const p of posts.filter((p) => p.seq > cursor)) had.push(p.seq);
                cursor = posts.at(-1)?.seq ?? cursor;
              }
            }
          };
          for (const op of ops) {
            if ('post' in op) {
              const posted = row(posts.length + 1, op.post);
              posts.push(posted);
              if (op.via !== 'signal') channelHub.onCommitted(posted);
              if (op.via !== 'handed') channelHub.onAppended('c_1', posts.length);
              await settle();
            } else if ('pause' in op) s.c.pausedSince = 1;
            else {
              s.c.pausedSince = 0;
              channelHub.resume(s.c);
            }
            handle();
          }
          s.c.pausedSince = 0;
          channelHub.resume(s.c);
          handle();
          expect(had).toEqual(posts.map((p) => p.seq));
        },
      ),
      { numRuns: 200 },
    );
  });
});
