import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type ClientFrame,
  CourierError,
  closeCodes,
  decodeClientFrame,
  encodeServerFrame,
  equalBytes,
  GATEWAY_PATH,
  isClientMsgId,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
} from '@courier/protocol';
import { inspectApplicationMessage, MlsError } from '@courier/mls';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BusSignal } from '../bus/ports.ts';
import type { Config } from '../config.ts';
import type { Clock } from '../deps.ts';
import { answerHandshakeErrors, requestPath } from '../http/upgrade.ts';
import type { ChannelReadBatch } from '../channels/channel-read-batch.ts';
import type { AuthService } from '../services/auth-service.ts';
import type { DeliveryService } from '../services/delivery-service.ts';
import type { ChannelPostRow, MailboxRow, Storage } from '../storage/ports.ts';
import { typedFailure } from '../storage/storage-unavailable.ts';
import { ClientConnection } from './client-connection.ts';
import { ChannelHub } from './channel-hub.ts';
import { GroupHub } from './group-hub.ts';
import { RepeatedFrames } from './repeated-frames.ts';
import { WindowCounter } from './window-counter.ts';

export interface GatewayDeps {
  storage: Storage;
  auth: AuthService;
  delivery: DeliveryService;
  /** Channel cursors moved over the socket (`channel_read`), written in batches. */
  channelReads: ChannelReadBatch;
  clock: Clock;
  logger: Logger;
  config: Config['delivery'];
  limits: Config['limits'];
  clientIp: (request: IncomingMessage) => string;
  /** Bytes a socket may send before its hello is accepted (config connections.preHelloBytes). */
  preHelloBytes: number;
}

const encoder = new TextEncoder();

/**
 * A group's log takes application data only as MLS PrivateMessage for that group (DESIGN §5): the
 * server reads the public header, never the content; anything else (plaintext, a handshake, another
 * group's message) is refused with a typed error. Commits go through the delivery service's HTTP API.
 */
function notApplicationMessage(groupId: string, payload: Uint8Array): CourierError | undefined {
  let header: ReturnType<typeof inspectApplicationMessage>;
  try {
    header = inspectApplicationMessage(payload);
  } catch (error) {
    const code =
      error instanceof MlsError && error.code === 'MLS_UNEXPECTED_MESSAGE' ? error.code : 'MLS_MALFORMED';
    return new CourierError(code, { message: (error as Error).message });
  }
  return equalBytes(header.groupId, encoder.encode(groupId))
    ? undefined
    : new CourierError('MLS_WRONG_GROUP');
}

const mailboxFrame = (row: MailboxRow) =>
  encodeServerFrame({
    type: 'mailbox_item',
    seq: row.seq,
    kind: row.kind,
    senderAccountId: row.senderAccountId,
    senderDeviceId: row.senderDeviceId,
    clientMsgId: row.clientMsgId,
    payload: row.payload,
    sentAtMs: row.createdAt,
  });

/**
 * The WebSocket gateway: authenticates a connection with its first frame, resumes each of the
 * device's groups from its cursor, pushes new entries live, and takes sends and acks.
 */
export class Gateway {
  private readonly wss = answerHandshakeErrors(
    new WebSocketServer({
      noServer: true,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
    }),
  );
  /** The receiving connection of each device (one: a newer one takes over). */
  private readonly byDevice = new Map<string, ClientConnection>();
  /** Send-only connections, any number per device. */
  private readonly sendOnly = new Map<string, Set<ClientConnection>>();
  private readonly byAccount = new Map<string, Set<ClientConnection>>();
  private readonly paused = new Set<ClientConnection>();
  private readonly hub: GroupHub;
  private readonly channelHub: ChannelHub;
  /** Client frames decoded, repeated acks and channel reads once (a fan-out's recipients send the same). */
  private readonly frames = new RepeatedFrames();
  /** Hellos per device in the current window (limits.connectsPerDevice). */
  private readonly connects: WindowCounter;
  private readonly timer: NodeJS.Timeout;
  private readonly sessionTimer: NodeJS.Timeout;
  private pingTicks = 0;
  private shuttingDown = false;

  constructor(private readonly deps: GatewayDeps) {
    this.connects = new WindowCounter(deps.limits.connectWindowMs);
    this.hub = new GroupHub(
      deps.storage,
      {
        cache: { entries: deps.config.hubCacheEntries, bytes: deps.limits.hubCacheBytes },
        totalCacheBytes: deps.limits.hubCacheTotalBytes,
        pageSize: deps.config.catchUpPageSize,
        pageBytes: deps.limits.catchUpPageBytes,
      },
      deps.logger,
    );
    this.channelHub = new ChannelHub({
      readPosts: (channelId, afterSeq) =>
        deps.storage.channelPosts.range(
          channelId,
          afterSeq,
          deps.config.catchUpPageSize,
          deps.limits.catchUpPageBytes,
        ),
      pushBytes: deps.config.channelPushBytes,
      logger: deps.logger,
    });
    // Callbacks from the store, the timer and the sockets run where nothing else catches: one that
    // throws is logged, never the end of the process.
    deps.delivery.setListener({
      onEntriesCommitted: (rows) => this.guarded('fan-out', () => this.hub.onEntriesCommitted(rows)),
      onMailboxCommitted: (rows) =>
        this.guarded('mailbox push', () => {
          for (const row of rows) this.pushMailbox(row.deviceId);
        }),
    });
    this.timer = setInterval(() => this.guarded('gateway tick', () => this.tick()), 100);
    this.timer.unref();
    this.sessionTimer = setInterval(() => void this.recheckSessions(), deps.config.sessionRecheckMs);
    this.sessionTimer.unref();
  }

  private guarded(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.deps.logger.error({ err: error }, `${what} failed`);
    }
  }

  get connectionCount(): number {
    let count = this.byDevice.size;
    for (const set of this.sendOnly.values()) count += set.size;
    return count;
  }

  /** Bytes held in the fan-out caches of this node's chats (bounded by `limits.hubCacheTotalBytes`). */
  get fanOutCacheBytes(): number {
    return this.hub.cachedBytes;
  }

  /** Handles an HTTP upgrade; returns false when the path is not the gateway's. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (requestPath(request.url) !== GATEWAY_PATH) return false;
    if (this.shuttingDown) {
      socket.destroy();
      return true;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) =>
      this.accept(ws, socket, this.deps.clientIp(request)),
    );
    return true;
  }

  onSignal(signal: BusSignal): void {
    switch (signal.type) {
      case 'groups_appended':
        for (const [groupId, seq] of signal.groups) this.hub.onGroupAppended(groupId, seq);
        return;
      case 'mailboxes_appended':
        for (const [deviceId] of signal.devices) this.pushMailbox(deviceId);
        return;
      case 'membership_changed':
        for (const accountId of signal.accountIds) {
          for (const connection of this.byAccount.get(accountId) ?? [])
            void this.reloadMembership(connection, signal.groupId);
        }
        return;
      case 'devices_revoked':
        for (const deviceId of signal.deviceIds) {
          for (const c of this.connectionsOf(deviceId))
            c.close('AUTH_SESSION_REVOKED', closeCodes.SESSION_REVOKED);
        }
        return;
      case 'channels_appended':
        for (const [channelId, seq] of signal.channels) this.channelHub.onAppended(channelId, seq);
        return;
      case 'channel_subscriptions_changed': {
        // No accounts named: the channel itself changed (deleted); every connection on it re-checks.
        const connections =
          signal.accountIds.length === 0
            ? this.channelHub.connectionsOf(signal.channelId)
            : signal.accountIds.flatMap((a) => [...(this.byAccount.get(a) ?? [])]);
        for (const connection of connections)
          if (!connection.sendOnly) void this.reloadSubscription(connection, signal.channelId);
        return;
      }
    }
  }

  /**
   * Channel posts this node committed: fanned out to this node's subscribers from the rows, without
   * reading them back (the bus signal still tells the other nodes, which read them from the store).
   */
  onChannelPostsCommitted(rows: readonly ChannelPostRow[]): void {
    this.guarded('channel hand-over', () => {
      for (const row of rows) this.channelHub.onCommitted(row);
    });
  }

  /**
   * Re-reads the last sequence number of every group this node serves, so that a signal lost on
   * the bus delays delivery by at most one sweep. Also run after the bus comes back.
   */
  async resync(): Promise<void> {
    try {
      for (const { groupId, lastSeq } of await this.deps.storage.groups.lastSeqs(this.hub.groupIds())) {
        this.hub.onGroupAppended(groupId, lastSeq);
      }
      for (const channel of await this.deps.storage.channels.byIds(this.channelHub.channelIds()))
        this.channelHub.onAppended(channel.id, channel.lastSeq);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'resync failed');
    }
  }

  /** After a bus interruption: groups and mailboxes may have grown unseen, devices been revoked. */
  async resume(): Promise<void> {
    await this.recheckSessions();
    await this.resync();
    for (const deviceId of this.byDevice.keys()) this.pushMailbox(deviceId);
  }

  /**
   * Closes every connection whose session no longer exists. A revocation reaches other nodes as one
   * at-most-once bus signal; this re-check (periodic, and after the bus comes back) is what keeps
   * a revoked device from staying connected to a node that missed it.
   */
  async recheckSessions(): Promise<void> {
    const connections = [
      ...this.byDevice.values(),
      ...[...this.sendOnly.values()].flatMap((set) => [...set]),
    ];
    if (connections.length === 0) return;
    try {
      const live = await this.deps.storage.sessions.existing([
        ...new Set(connections.map((c) => c.tokenHash)),
      ]);
      for (const connection of connections) {
        if (!live.has(connection.tokenHash) && !connection.closed) {
          connection.close('AUTH_SESSION_REVOKED', closeCodes.SESSION_REVOKED);
        }
      }
    } catch (error) {
      this.deps.logger.error({ err: error }, 'session re-check failed');
    }
  }

  async close(): Promise<void> {
    this.shuttingDown = true;
    clearInterval(this.timer);
    clearInterval(this.sessionTimer);
    for (const connection of [
      ...this.byDevice.values(),
      ...[...this.sendOnly.values()].flatMap((s) => [...s]),
    ]) {
      connection.close('SERVER_SHUTTING_DOWN', closeCodes.SHUTTING_DOWN);
    }
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, socket: Duplex, ip: string): void {
    const fail = (error: CourierError, closeCode: number) => {
      ws.send(encodeServerFrame({ type: 'error', requestId: 0, code: error.code, message: error.message }));
      ws.close(closeCode, error.code);
    };
    const helloTimer = setTimeout(
      () => fail(new CourierError('PROTO_HELLO_TIMEOUT'), closeCodes.HELLO_TIMEOUT),
      this.deps.config.helloTimeoutMs,
    );
    // A stranger's bytes are counted on the socket, below the WebSocket framing: the frame size limit
    // (maxPayload) is one per server, so without this a connection that never sends a valid hello
    // could make the server buffer a whole 4 MiB frame, and queue more behind its hello check.
    let strangerBytes = 0;
    const countStrangerBytes = (chunk: Buffer) => {
      strangerBytes += chunk.length;
      if (strangerBytes <= this.deps.preHelloBytes) return;
      clearTimeout(helloTimer);
      // Nothing more is read (what the peer still sends waits in its own buffers); the error and the
      // close frame go out, then the end of the stream. ws destroys the socket at its close timeout.
      socket.removeAllListeners('data');
      socket.pause();
      fail(new CourierError('PROTO_TOO_MUCH_BEFORE_HELLO'), closeCodes.PROTOCOL_ERROR);
      socket.end();
    };
    socket.on('data', countStrangerBytes);
    const authenticated = () => socket.off('data', countStrangerBytes);
    // Frames that arrive while the hello is being checked wait in a short queue.
    let connection: ClientConnection | undefined;
    let queued: [Buffer, boolean][] | undefined;
    ws.on('message', (data, isBinary) => {
      if (connection) {
        const ready = connection;
        this.guarded('frame', () => this.onFrame(ready, data as Buffer, isBinary));
        return;
      }
      if (queued) {
        if (queued.length < 64) queued.push([data as Buffer, isBinary]);
        return;
      }
      queued = [];
      clearTimeout(helloTimer);
      this.hello(ws, socket, ip, data as Buffer, isBinary).then(
        (ready) => {
          if (ready) authenticated();
          connection = ready;
          for (const [frame, binary] of queued ?? [])
            if (ready) this.guarded('frame', () => this.onFrame(ready, frame, binary));
          queued = undefined;
        },
        (error: unknown) => {
          const typed = typedFailure(error);
          if (typed.code === 'INTERNAL') this.deps.logger.error({ err: error }, 'hello failed');
          // A suspended account closes like a bad token (the client stops retrying); the reason says which.
          const unauthorized = typed.status === 401 || typed.code === 'ACCOUNT_SUSPENDED';
          fail(typed, unauthorized ? closeCodes.UNAUTHORIZED : closeCodes.PROTOCOL_ERROR);
        },
      );
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      authenticated();
    });
    ws.on('error', () => ws.terminate());
  }

  private async hello(
    ws: WebSocket,
    socket: Duplex,
    ip: string,
    data: Buffer,
    isBinary: boolean,
  ): Promise<ClientConnection | undefined> {
    if (!isBinary) throw new CourierError('PROTO_TEXT_FRAME');
    const frame = decodeClientFrame(data);
    if (frame.type !== 'hello') throw new CourierError('PROTO_HELLO_REQUIRED');
    if (frame.protocolVersion !== PROTOCOL_VERSION) {
      throw new CourierError('PROTO_UNSUPPORTED_VERSION', { details: { supported: [PROTOCOL_VERSION] } });
    }
    const principal = await this.deps.auth.authenticate(frame.token);
    if (ws.readyState !== ws.OPEN) return undefined;
    // A reconnect loop, then too many open sockets: both refused, both retryable later.
    const { connectsPerDevice, connectWindowMs } = this.deps.limits;
    const refused =
      this.connects.hit(principal.deviceId, this.deps.clock.now()) > connectsPerDevice
        ? new CourierError('AUTH_RATE_LIMITED', { details: { retryAfterMs: connectWindowMs } })
        : this.tooManySockets(principal.accountId, principal.deviceId, frame.sendOnly === true)
          ? new CourierError('AUTH_TOO_MANY_SOCKETS')
          : undefined;
    if (refused) {
      ws.send(
        encodeServerFrame({ type: 'error', requestId: 0, code: refused.code, message: refused.message }),
      );
      ws.close(closeCodes.TOO_MANY_SOCKETS, refused.code);
      return undefined;
    }
    const connection = new ClientConnection(
      ws,
      principal.accountId,
      principal.deviceId,
      principal.tokenHash,
      this.deps.config.highWaterBytes,
      (c) => this.paused.add(c),
      { bytes: this.deps.limits.inFlightBytesPerSocket, sends: this.deps.limits.inFlightSendsPerSocket },
      socket,
    );
    connection.sendOnly = frame.sendOnly === true;
    this.register(connection);
    ws.on('close', () => this.guarded('unregister', () => this.unregister(connection)));
    ws.on('pong', () => {
      connection.alive = true;
    });
    const now = this.deps.clock.now();
    this.deps.delivery.connected(
      { deviceId: principal.deviceId, accountId: principal.accountId, ip, at: now },
      principal.tokenHash,
    );
    const memberships = await this.deps.storage.groups.membershipsOfDevice(
      principal.deviceId,
      principal.accountId,
    );
    // Read before `ready`, joined right after it: a post made once the client is ready is pushed to it.
    const subscriptions = connection.sendOnly ? [] : await this.channelPositions(principal.accountId);
    if (connection.closed) return undefined;
    connection.send({
      type: 'ready',
      protocolVersion: PROTOCOL_VERSION,
      accountId: principal.accountId,
      deviceId: principal.deviceId,
      serverTimeMs: now,
      maxFrameBytes: MAX_FRAME_BYTES,
      maxPayloadBytes: this.deps.config.maxPayloadBytes,
    });
    if (connection.sendOnly) {
      // Knows its chats (to check its sends) but is sent nothing.
      for (const m of memberships) connection.groups.set(m.groupId, { sent: m.lastSeq, reading: false });
    } else {
      for (const m of memberships) this.hub.join(connection, m.groupId, m.ackedSeq, m.lastSeq);
      this.pushMailbox(principal.deviceId);
      for (const s of subscriptions) this.channelHub.join(connection, s.channelId, s.cursor, s.lastSeq);
    }
    return connection;
  }

  /**
   * Would one more connection pass `limits.socketsPerDevice` or `limits.socketsPerAccount` on this
   * node? A receiving connection replaces the device's current one, so that one does not count.
   */
  private tooManySockets(accountId: string, deviceId: string, sendOnly: boolean): boolean {
    const replaced = sendOnly ? undefined : this.byDevice.get(deviceId);
    const ofDevice = this.connectionsOf(deviceId).filter((c) => c !== replaced).length;
    const ofAccount = [...(this.byAccount.get(accountId) ?? [])].filter((c) => c !== replaced).length;
    return ofDevice >= this.deps.limits.socketsPerDevice || ofAccount >= this.deps.limits.socketsPerAccount;
  }

  /** Every connection of a device on this node: the receiving one and any send-only ones. */
  private connectionsOf(deviceId: string): ClientConnection[] {
    const receiving = this.byDevice.get(deviceId);
    return [...(receiving ? [receiving] : []), ...(this.sendOnly.get(deviceId) ?? [])];
  }

  private register(connection: ClientConnection): void {
    if (connection.sendOnly) {
      const set = this.sendOnly.get(connection.deviceId) ?? new Set();
      set.add(connection);
      this.sendOnly.set(connection.deviceId, set);
    } else {
      // One receiving connection per device on this node: a reconnect replaces a stale socket.
      this.byDevice.get(connection.deviceId)?.close('AUTH_CONNECTION_REPLACED', closeCodes.REPLACED);
      this.byDevice.set(connection.deviceId, connection);
    }
    let set = this.byAccount.get(connection.accountId);
    if (!set) {
      set = new Set();
      this.byAccount.set(connection.accountId, set);
    }
    set.add(connection);
  }

  private unregister(connection: ClientConnection): void {
    connection.closed = true;
    this.hub.dropConnection(connection);
    this.channelHub.dropConnection(connection);
    this.paused.delete(connection);
    if (this.byDevice.get(connection.deviceId) === connection) this.byDevice.delete(connection.deviceId);
    const senders = this.sendOnly.get(connection.deviceId);
    senders?.delete(connection);
    if (senders?.size === 0) this.sendOnly.delete(connection.deviceId);
    const set = this.byAccount.get(connection.accountId);
    set?.delete(connection);
    if (set?.size === 0) this.byAccount.delete(connection.accountId);
  }

  private onFrame(connection: ClientConnection, data: Buffer, isBinary: boolean): void {
    let frame: ClientFrame;
    try {
      if (!isBinary) throw new CourierError('PROTO_TEXT_FRAME');
      frame = this.frames.decode(data);
    } catch (error) {
      const typed =
        error instanceof CourierError ? error : new CourierError('PROTO_MALFORMED_FRAME', { cause: error });
      connection.send({ type: 'error', requestId: 0, code: typed.code, message: typed.message });
      return;
    }
    switch (frame.type) {
      case 'hello':
        connection.send({
          type: 'error',
          requestId: 0,
          code: 'PROTO_MALFORMED_FRAME',
          message: 'Hello was already received.',
        });
        return;
      case 'send':
        this.onSend(connection, frame);
        return;
      case 'send_to_device':
        this.onSendToDevice(connection, frame);
        return;
      case 'ack': {
        const position = connection.groups.get(frame.groupId);
        // A send-only connection was sent nothing, so it has nothing to acknowledge.
        if (position && !connection.sendOnly)
          this.deps.delivery.ack(connection.deviceId, frame.groupId, Math.min(frame.seq, position.sent));
        return;
      }
      case 'mailbox_ack':
        if (frame.seq <= connection.mailboxSent)
          this.deps.delivery.ackMailbox(connection.deviceId, frame.seq);
        return;
      case 'ping':
        connection.send({ type: 'pong', nonce: frame.nonce, serverTimeMs: this.deps.clock.now() });
        return;
      case 'channel_read': {
        // As an ack: only on a channel this connection is on, and never past what is committed.
        const upTo = this.channelHub.readableUpTo(connection, frame.channelId);
        if (upTo !== undefined && !connection.sendOnly)
          this.deps.channelReads.read(connection.accountId, frame.channelId, Math.min(frame.seq, upTo));
        return;
      }
    }
  }

  private reject(connection: ClientConnection, requestId: number, error: unknown): void {
    const typed = typedFailure(error);
    if (typed.code === 'INTERNAL') this.deps.logger.error({ err: error }, 'send failed');
    connection.send({ type: 'error', requestId, code: typed.code, message: typed.message });
  }

  /** The checks every send passes before it is queued for the store. */
  private invalidSend(clientMsgId: string, payload: Uint8Array): CourierError | undefined {
    if (!isClientMsgId(clientMsgId)) return new CourierError('MSG_CLIENT_ID_INVALID');
    if (payload.byteLength > this.deps.config.maxPayloadBytes)
      return new CourierError('PROTO_PAYLOAD_TOO_LARGE');
    return undefined;
  }

  private onSend(connection: ClientConnection, frame: Extract<ClientFrame, { type: 'send' }>): void {
    const { requestId, groupId, clientMsgId, payload } = frame;
    const invalid =
      this.invalidSend(clientMsgId, payload) ??
      (connection.groups.has(groupId) ? undefined : new CourierError('GROUP_NOT_MEMBER')) ??
      notApplicationMessage(groupId, payload);
    if (invalid) {
      this.reject(connection, requestId, invalid);
      return;
    }
    const sender = { accountId: connection.accountId, deviceId: connection.deviceId };
    connection.sendStarted(payload.byteLength);
    this.deps.delivery
      .appendToGroup(sender, groupId, clientMsgId, payload)
      .then(
        ({ seq, duplicate }) =>
          connection.send({ type: 'accepted', requestId, groupId, deviceId: '', seq, duplicate }),
        (error: unknown) => this.reject(connection, requestId, error),
      )
      .finally(() => connection.sendSettled(payload.byteLength));
  }

  private onSendToDevice(
    connection: ClientConnection,
    frame: Extract<ClientFrame, { type: 'send_to_device' }>,
  ): void {
    const { requestId, deviceId, clientMsgId, payload } = frame;
    const invalid = this.invalidSend(clientMsgId, payload);
    if (invalid) {
      this.reject(connection, requestId, invalid);
      return;
    }
    const sender = { accountId: connection.accountId, deviceId: connection.deviceId };
    connection.sendStarted(payload.byteLength);
    this.deps.delivery
      .appendToDevice(sender, deviceId, clientMsgId, payload)
      .then(
        ({ seq, duplicate }) =>
          connection.send({ type: 'accepted', requestId, groupId: '', deviceId, seq, duplicate }),
        (error: unknown) => this.reject(connection, requestId, error),
      )
      .finally(() => connection.sendSettled(payload.byteLength));
  }

  private async reloadMembership(connection: ClientConnection, groupId: string): Promise<void> {
    try {
      const membership = await this.deps.storage.groups.membershipOfDevice(connection.deviceId, groupId);
      if (connection.closed) return;
      const joined = connection.groups.has(groupId);
      if (connection.sendOnly) {
        if (membership) connection.groups.set(groupId, { sent: membership.lastSeq, reading: false });
        else connection.groups.delete(groupId);
      } else if (membership && !joined) {
        connection.send({ type: 'group_joined', groupId, fromSeq: membership.ackedSeq });
        this.hub.join(connection, groupId, membership.ackedSeq, membership.lastSeq);
      } else if (!membership && joined) {
        this.hub.leave(connection, groupId);
        connection.send({ type: 'group_left', groupId });
      }
    } catch (error) {
      this.deps.logger.error({ err: error, groupId }, 'membership reload failed');
      connection.close('SERVER_UNAVAILABLE', closeCodes.SHUTTING_DOWN);
    }
  }

  /** The account's subscribed channels: where it has read to and where each channel stands. */
  private async channelPositions(
    accountId: string,
  ): Promise<{ channelId: string; cursor: number; lastSeq: number }[]> {
    const subscriptions = await this.deps.storage.channelSubscriptions.byAccount(accountId);
    if (subscriptions.length === 0) return [];
    const channels = new Map(
      (await this.deps.storage.channels.byIds(subscriptions.map((s) => s.channelId))).map((c) => [c.id, c]),
    );
    return subscriptions.flatMap((s) => {
      const channel = channels.get(s.channelId);
      return channel ? [{ channelId: channel.id, cursor: s.cursor, lastSeq: channel.lastSeq }] : [];
    });
  }

  private async reloadSubscription(connection: ClientConnection, channelId: string): Promise<void> {
    try {
      const subscription = await this.deps.storage.channelSubscriptions.get(connection.accountId, channelId);
      const channel = subscription ? await this.deps.storage.channels.byId(channelId) : undefined;
      if (connection.closed) return;
      if (subscription && channel)
        this.channelHub.join(connection, channelId, subscription.cursor, channel.lastSeq);
      else this.channelHub.leave(connection, channelId);
    } catch (error) {
      this.deps.logger.error({ err: error, channelId }, 'subscription reload failed');
    }
  }

  private pushMailbox(deviceId: string): void {
    const connection = this.byDevice.get(deviceId);
    if (!connection || connection.mailboxReading || connection.paused || connection.closed) return;
    connection.mailboxReading = true;
    (async () => {
      let more = false;
      try {
        const rows = await this.deps.storage.mailbox.range(
          deviceId,
          connection.mailboxSent,
          this.deps.config.catchUpPageSize,
          this.deps.limits.catchUpPageBytes,
        );
        for (const row of rows) {
          if (connection.closed || connection.paused) break;
          connection.mailboxSent = row.seq;
          connection.write(mailboxFrame(row));
        }
        // A page ends at its entry count or its byte bound: read on until one comes back empty.
        more = rows.length > 0;
      } catch (error) {
        this.deps.logger.error({ err: error }, 'mailbox read failed');
      } finally {
        connection.mailboxReading = false;
      }
      if (more) this.pushMailbox(deviceId);
    })().catch((error: unknown) => this.deps.logger.error({ err: error }, 'mailbox push failed'));
  }

  /** Every 100 ms: resume drained connections, close stuck ones; every 10 s: resync; every 30 s: ping. */
  private tick(): void {
    const now = Date.now();
    for (const connection of this.paused) {
      if (connection.closed) {
        this.paused.delete(connection);
      } else if (connection.ws.bufferedAmount <= this.deps.config.lowWaterBytes) {
        connection.pausedSince = 0;
        this.paused.delete(connection);
        this.hub.resume(connection);
        this.channelHub.resume(connection);
        this.pushMailbox(connection.deviceId);
      } else if (now - connection.pausedSince > this.deps.config.slowConsumerMs) {
        this.paused.delete(connection);
        connection.close('MSG_SLOW_CONSUMER', closeCodes.SLOW_CONSUMER);
        connection.ws.terminate();
      }
    }
    this.pingTicks += 1;
    if (this.pingTicks % 100 === 0) {
      void this.resync();
      this.connects.sweep(this.deps.clock.now());
    }
    if (this.pingTicks >= 300) {
      this.pingTicks = 0;
      for (const connection of [
        ...this.byDevice.values(),
        ...[...this.sendOnly.values()].flatMap((c) => [...c]),
      ]) {
        if (!connection.alive) {
          connection.ws.terminate();
          continue;
        }
        connection.alive = false;
        connection.ws.ping();
      }
    }
  }
}
