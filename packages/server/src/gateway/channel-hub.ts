import { encodeServerFrame, type ServerFrame } from '@courier/protocol';
import type { Logger } from 'pino';
import type { ChannelPostRow } from '../storage/ports.ts';
import { type ClientConnection, type FramedOnce, frameOnce } from './client-connection.ts';

interface HubChannel {
  id: string;
  /** Each subscribed connection, with the highest sequence number written (or signalled) to it. */
  subscribers: Map<ClientConnection, number>;
  /** Highest sequence number known to be committed. */
  known: number;
  /** Highest sequence number fanned out to the subscribers (pushed or signalled). */
  fannedOut: number;
  /** A read of new posts from the store is in flight. */
  fetching: boolean;
  /** Posts this node committed and handed over (onCommitted), not yet fanned out: no read needed. */
  handed: Map<number, ChannelPostRow>;
  /** A fan-out of handed posts is scheduled (after the current turn: the poster's reply goes first). */
  scheduled: boolean;
}

export interface ChannelHubOptions {
  /** Posts after `afterSeq`, in sequence order (one read per node for all its subscribers). */
  readPosts(channelId: string, afterSeq: number): Promise<ChannelPostRow[]>;
  /** A post whose body is at most this many bytes rides in its frame; a larger one is signalled. */
  pushBytes: number;
  logger: Logger;
}

/** The `channel_posted` frame of one post: the post itself when small, else the signal only. */
export function channelPostedFrame(row: ChannelPostRow, pushBytes: number): ServerFrame {
  if (row.payload.byteLength > pushBytes)
    return { type: 'channel_posted', channelId: row.channelId, seq: row.seq };
  return {
    type: 'channel_posted',
    channelId: row.channelId,
    seq: row.seq,
    post: {
      postId: row.postId,
      seq: row.seq,
      revision: row.revision,
      deleted: row.deleted,
      body: row.payload,
      signature: row.signature,
      createdAtMs: row.createdAt,
      editedAtMs: row.editedAt,
      views: row.views,
    },
  };
}

/**
 * Broadcast channels to this node's connections. When a channel's posts reach `seq`, the node reads
 * the new posts from the store once, encodes (and frames) one `channel_posted` frame per post once,
 * carrying the signed post when it is small, and writes the same bytes to every subscribed
 * connection. A connection that is paused, or joins behind, gets one signal-only frame with the
 * newest position instead and reads the gap from its cursor over HTTP.
 */
export class ChannelHub {
  private readonly channels = new Map<string, HubChannel>();
  private readonly ofConnection = new Map<ClientConnection, Set<string>>();

  constructor(private readonly options: ChannelHubOptions) {}

  /** Starts delivering a channel to a connection that has read up to `cursor`; signals now if it is behind. */
  join(connection: ClientConnection, channelId: string, cursor: number, lastSeq: number): void {
    let channel = this.channels.get(channelId);
    if (!channel) {
      channel = {
        id: channelId,
        subscribers: new Map(),
        known: lastSeq,
        fannedOut: lastSeq,
        fetching: false,
        handed: new Map(),
        scheduled: false,
      };
      this.channels.set(channelId, channel);
    }
    let set = this.ofConnection.get(connection);
    if (!set) {
      set = new Set();
      this.ofConnection.set(connection, set);
    }
    set.add(channelId);
    // A connection already on the channel keeps its position (a reload must not signal it again).
    const position = channel.subscribers.get(connection);
    channel.subscribers.set(connection, Math.max(position ?? cursor, cursor));
    if (lastSeq > channel.known) this.onAppended(channelId, lastSeq);
    if (channel.fannedOut > (channel.subscribers.get(connection) ?? 0)) this.signal(connection, channel);
  }

  leave(connection: ClientConnection, channelId: string): void {
    this.ofConnection.get(connection)?.delete(channelId);
    const channel = this.channels.get(channelId);
    if (!channel) return;
    channel.subscribers.delete(connection);
    if (channel.subscribers.size === 0) this.channels.delete(channelId);
  }

  /** The connections of this node subscribed to the channel. */
  connectionsOf(channelId: string): ClientConnection[] {
    return [...(this.channels.get(channelId)?.subscribers.keys() ?? [])];
  }

  /**
   * Where a connection may move its cursor to on this channel: the newest post this node knows to
   * be committed; undefined when the connection is not on the channel.
   */
  readableUpTo(connection: ClientConnection, channelId: string): number | undefined {
    const channel = this.channels.get(channelId);
    return channel?.subscribers.has(connection) ? channel.known : undefined;
  }

  dropConnection(connection: ClientConnection): void {
    for (const channelId of [...(this.ofConnection.get(connection) ?? [])]) this.leave(connection, channelId);
    this.ofConnection.delete(connection);
  }

  channelIds(): string[] {
    return [...this.channels.keys()];
  }

  /** The channel's posts were committed up to `seq` (on this node or another). */
  onAppended(channelId: string, seq: number): void {
    const channel = this.channels.get(channelId);
    if (!channel || seq <= channel.known) return;
    channel.known = seq;
    this.fetch(channel);
  }

  /**
   * A post this node committed (a new one or a revision), with its row: it is fanned out from the
   * row itself, without reading it back, once every post before it was (in order, as from the
   * store), after the current turn. The bus signal of the same post that follows finds it known and
   * does nothing; other nodes read it from the store on that signal.
   */
  onCommitted(row: ChannelPostRow): void {
    const channel = this.channels.get(row.channelId);
    if (!channel || row.seq <= channel.fannedOut) return;
    channel.handed.set(row.seq, row);
    channel.known = Math.max(channel.known, row.seq);
    if (channel.scheduled) return;
    channel.scheduled = true;
    setImmediate(() => {
      channel.scheduled = false;
      this.fetch(channel);
    });
  }

  /** A paused connection drained: it hears the newest position of every channel it fell behind on. */
  resume(connection: ClientConnection): void {
    for (const channelId of this.ofConnection.get(connection) ?? []) {
      const channel = this.channels.get(channelId);
      if (channel && (channel.subscribers.get(connection) ?? 0) < channel.fannedOut)
        this.signal(connection, channel);
    }
  }

  /**
   * Fans out the posts after the last one fanned out, once for every subscriber of this node: the
   * next one from the posts handed over when it is there, else read from the store.
   */
  private fetch(channel: HubChannel): void {
    if (channel.fetching) return;
    channel.fetching = true;
    (async () => {
      try {
        while (channel.fannedOut < channel.known && this.channels.get(channel.id) === channel) {
          const next = channel.handed.get(channel.fannedOut + 1);
          if (next) {
            this.fanOut(channel, next.seq, frameOnce(this.encode(next)));
            continue;
          }
          const rows = await this.options.readPosts(channel.id, channel.fannedOut);
          if (rows.length === 0) break;
          for (const row of rows) this.fanOut(channel, row.seq, frameOnce(this.encode(row)));
        }
      } catch (error) {
        this.options.logger.error({ err: error, channelId: channel.id }, 'channel read failed');
      } finally {
        channel.fetching = false;
        for (const seq of channel.handed.keys()) if (seq <= channel.fannedOut) channel.handed.delete(seq);
      }
      // Nothing (more) could be read: the subscribers still hear where the channel stands.
      if (channel.fannedOut < channel.known)
        this.fanOut(
          channel,
          channel.known,
          frameOnce(encodeServerFrame({ type: 'channel_posted', channelId: channel.id, seq: channel.known })),
        );
    })().catch((error: unknown) =>
      this.options.logger.error({ err: error, channelId: channel.id }, 'channel fan-out failed'),
    );
  }

  private encode(row: ChannelPostRow): Uint8Array {
    return encodeServerFrame(channelPostedFrame(row, this.options.pushBytes));
  }

  /** The same framed bytes to every subscriber not yet at `seq`; paused ones hear it when they drain. */
  private fanOut(channel: HubChannel, seq: number, framed: FramedOnce): void {
    if (seq <= channel.fannedOut) return;
    channel.fannedOut = seq;
    channel.known = Math.max(channel.known, seq);
    for (const [connection, written] of channel.subscribers) {
      if (connection.closed || connection.paused || written >= seq) continue;
      channel.subscribers.set(connection, seq);
      connection.writeFramed(framed);
    }
  }

  private signal(connection: ClientConnection, channel: HubChannel): void {
    if (connection.closed || connection.paused) return;
    channel.subscribers.set(connection, channel.fannedOut);
    connection.send({ type: 'channel_posted', channelId: channel.id, seq: channel.fannedOut });
  }
}
