import { encodeServerFrame } from '@courier/protocol';
import { type ClientConnection, frameOnce } from './client-connection.ts';

interface HubChannel {
  subscribers: Map<ClientConnection, number>;
  /** Highest sequence number known to be committed. */
  known: number;
}

/**
 * Live signals of broadcast channels to this node's connections: when a channel's posts reach `seq`,
 * one `channel_posted` frame is encoded (and framed) once and the same bytes are written to every
 * subscribed connection. The posts themselves stay in the store, read by each subscriber from its own
 * cursor; a paused connection gets the newest signal when it drains.
 */
export class ChannelHub {
  private readonly channels = new Map<string, HubChannel>();
  private readonly ofConnection = new Map<ClientConnection, Set<string>>();

  /** Starts signalling a channel to a connection that has read up to `cursor`; signals now if it is behind. */
  join(connection: ClientConnection, channelId: string, cursor: number, lastSeq: number): void {
    let channel = this.channels.get(channelId);
    if (!channel) {
      channel = { subscribers: new Map(), known: lastSeq };
      this.channels.set(channelId, channel);
    }
    channel.known = Math.max(channel.known, lastSeq);
    channel.subscribers.set(connection, cursor);
    let set = this.ofConnection.get(connection);
    if (!set) {
      set = new Set();
      this.ofConnection.set(connection, set);
    }
    set.add(channelId);
    if (channel.known > cursor) this.signal(connection, channelId, channel);
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
    const framed = frameOnce(encodeServerFrame({ type: 'channel_posted', channelId, seq }));
    for (const [connection, signalled] of channel.subscribers) {
      if (connection.closed || connection.paused || signalled >= seq) continue;
      channel.subscribers.set(connection, seq);
      connection.writeFramed(framed);
    }
  }

  /** A paused connection drained: it hears the newest position of every channel it fell behind on. */
  resume(connection: ClientConnection): void {
    for (const channelId of this.ofConnection.get(connection) ?? []) {
      const channel = this.channels.get(channelId);
      if (channel && (channel.subscribers.get(connection) ?? 0) < channel.known)
        this.signal(connection, channelId, channel);
    }
  }

  private signal(connection: ClientConnection, channelId: string, channel: HubChannel): void {
    if (connection.closed || connection.paused) return;
    channel.subscribers.set(connection, channel.known);
    connection.send({ type: 'channel_posted', channelId, seq: channel.known });
  }
}
