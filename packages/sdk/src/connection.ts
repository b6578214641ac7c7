import {
  CourierError,
  closeCodes,
  type Endpoint,
  decodeServerFrame,
  type EntryFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  isErrorCode,
  type MailboxItemFrame,
  PROTOCOL_VERSION,
  type PushedChannelPost,
  type ServerFrame,
} from '@courier/protocol';
import type { ClientStore, OutboxItem } from './client-store.ts';
import { Emitter } from './emitter.ts';
import type { EndpointFailover } from './failover/endpoint-failover.ts';
import { randomClientMsgId } from './random-id.ts';
import { defaultSocketFactory, type SocketFactory, type WebSocketLike } from './websocket-like.ts';

export type ConnectionState = 'idle' | 'connecting' | 'ready' | 'stopped';

export interface ConnectionOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8080 (not used for the socket when `failover` is set). */
  url: string;
  token: string;
  store: ClientStore;
  client?: string;
  createSocket?: SocketFactory;
  /** Reconnect delays: full jitter between 0 and min(cap, base * 2^attempt). */
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  /** A connection silent for this long is presumed dead and replaced. */
  pingIntervalMs?: number;
  /**
   * Processes one entry, in order per group, exactly once per client store. When it resolves,
   * the entry counts as handled and is acknowledged to the server. Returning `false` leaves it
   * unhandled (a client showing one chat only): it is neither stored as seen nor acknowledged,
   * so the server sends it again next time.
   */
  onEntry?: (entry: EntryFrame) => undefined | false | Promise<undefined | false> | void | Promise<void>;
  /**
   * Processes a run of entries that arrived while earlier work was still going on (a backlog), in
   * arrival order, with `onEntry`'s contract for each: the answer says, per entry, `false` for one
   * left unhandled. Given, it is used instead of `onEntry`, so that a catch-up can be decrypted and
   * saved a run at a time instead of one entry at a time.
   */
  onEntryRun?: (entries: EntryFrame[]) => Promise<(undefined | false)[]>;
  onMailboxItem?: (item: MailboxItemFrame) => void | Promise<void>;
  /**
   * Only send: the server pushes nothing to this connection and it does not take over from the
   * device's receiving connection (a one-off send beside a running listener).
   */
  sendOnly?: boolean;
  /**
   * Acknowledgements are cumulative, so they are sent about this often (default 200 ms, each wait
   * drawn from 0.5–1.5 times it, so that a big group's members do not all ack at once). While entries
   * keep coming (the last ack went less than five times this ago), the wait is five times as long:
   * a member of a busy group acks about once a second, not after every other message, which is the
   * server's work per member (W2 at 5,000 members). The server's cursor only says where a reconnect
   * resumes: the client's own store drops what it has already.
   */
  ackDelayMs?: number;
  /**
   * Channel reads (`channel_read`, cumulative) are sent about this often (default 2 s, each wait drawn
   * from 0.5–1.5 times it): a subscriber of a busy channel moves its cursor once per a few posts. The
   * client's own cursor decides what it shows; the server's only where a reconnect is signalled from,
   * and view counts.
   */
  channelReadDelayMs?: number;
  /**
   * Connect through the endpoints of a signed list instead of `url`: each (re)connect races the
   * candidates (see EndpointFailover), and after failures the list is refreshed through the
   * endpoint that worked.
   */
  failover?: EndpointFailover;
}

/** The endpoint a connection is using (emitted when it becomes ready through it). */
export interface EndpointInUse {
  id: string;
  kind: 'core' | 'relay';
  url: string;
  /** True when this is not the endpoint the previous ready connection used. */
  switched: boolean;
}

export interface Accepted {
  seq: number;
  duplicate: boolean;
  clientMsgId: string;
}

export interface ConnectionEvents extends Record<string, unknown> {
  state: ConnectionState;
  ready: { accountId: string; deviceId: string };
  group_joined: { groupId: string; fromSeq: number };
  group_left: { groupId: string };
  /**
   * A subscribed broadcast channel has posts up to `seq`; `post` is the post at `seq` when the
   * server carried it in the frame (check it and read any gap with a ChannelClient).
   */
  channel_posted: { channelId: string; seq: number; post?: PushedChannelPost };
  /** The server closed the session for good (revoked, invalid token): no more reconnects. */
  fatal: CourierError;
  /** A recoverable problem (a dropped socket, a rejected frame). */
  problem: CourierError;
  /** With `failover`: the connection is ready through this endpoint. */
  endpoint: EndpointInUse;
}

interface InFlight {
  item: OutboxItem;
  resolve: (accepted: Accepted) => void;
  reject: (error: CourierError) => void;
}

const RETRYABLE_STATUS = 500;
/** Most entries handed to `onEntryRun` at once. */
const MAX_ENTRY_RUN = 200;

/** While entries keep coming, acks wait this many times `ackDelayMs` (see ConnectionOptions.ackDelayMs). */
const BUSY_ACK_FACTOR = 5;

/**
 * The device's connection to the gateway. It reconnects by itself, resumes every group from the
 * position the client store holds, and re-sends its outbox with the same client message ids, so
 * that a fault loses nothing and shows nothing twice.
 */
export class CourierConnection extends Emitter<ConnectionEvents> {
  private socket: WebSocketLike | undefined;
  private stateValue: ConnectionState = 'idle';
  private attempt = 0;
  private nextRequestId = 1;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly byRequest = new Map<number, string>();
  private readonly pendingAcks = new Map<string, number>();
  private pendingMailboxAck = 0;
  private readonly pendingChannelReads = new Map<string, number>();
  private channelReadTimer: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the last acks went (Date.now()): a chat that keeps receiving is acked less often. */
  private lastAckAt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lastHeard = 0;
  private work: Promise<void> = Promise.resolve();
  /** Entries waiting for their turn that `onEntryRun` takes together (see `queueEntry`). */
  private entryRun: EntryFrame[] | undefined;
  private readyWaiters: (() => void)[] = [];
  private endpoint: Endpoint | undefined;
  private lastReadyEndpoint: string | undefined;

  constructor(private readonly options: ConnectionOptions) {
    super();
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** With `failover`: the endpoint the current connection goes through. */
  get endpointInUse(): Endpoint | undefined {
    return this.endpoint;
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    for (const item of this.options.store.outbox())
      this.track(
        item,
        () => {},
        () => {},
      );
    this.open();
  }

  /** Resolves once the connection is authenticated and resuming. */
  ready(): Promise<void> {
    if (this.stateValue === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Closes the connection. Unaccepted sends stay in the store's outbox for the next start. */
  async stop(): Promise<void> {
    this.setState('stopped');
    for (const pending of this.inFlight.values()) pending.reject(new CourierError('CLIENT_STOPPED'));
    this.inFlight.clear();
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    // Nothing that arrives from now on is handled: once stop() resolves, the store no longer moves.
    const socket = this.socket;
    if (socket) socket.onmessage = null;
    await this.work;
    this.flushAcks();
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'bye');
    }
  }

  /** Sends an opaque payload to a group. Resolves when the server has stored it durably. */
  send(groupId: string, payload: Uint8Array, clientMsgId = randomClientMsgId()): Promise<Accepted> {
    return this.enqueue({ kind: 'group', target: groupId, clientMsgId, payload });
  }

  /** Sends an opaque payload to one device's mailbox (e.g. an MLS Welcome). */
  sendToDevice(deviceId: string, payload: Uint8Array, clientMsgId = randomClientMsgId()): Promise<Accepted> {
    return this.enqueue({ kind: 'device', target: deviceId, clientMsgId, payload });
  }

  private enqueue(item: OutboxItem): Promise<Accepted> {
    const existing = this.inFlight.get(item.clientMsgId);
    if (existing) {
      return new Promise((resolve, reject) => {
        const previous = existing;
        this.inFlight.set(item.clientMsgId, {
          item,
          resolve: (a) => {
            previous.resolve(a);
            resolve(a);
          },
          reject: (e) => {
            previous.reject(e);
            reject(e);
          },
        });
      });
    }
    this.options.store.putOutbox(item);
    return new Promise((resolve, reject) => {
      this.track(item, resolve, reject);
      if (this.stateValue === 'ready') this.transmit(item);
    });
  }

  private track(item: OutboxItem, resolve: (a: Accepted) => void, reject: (e: CourierError) => void): void {
    this.inFlight.set(item.clientMsgId, { item, resolve, reject });
  }

  private transmit(item: OutboxItem): void {
    const requestId = this.nextRequestId++;
    if (this.nextRequestId > 0xffffffff) this.nextRequestId = 1;
    this.byRequest.set(requestId, item.clientMsgId);
    const frame =
      item.kind === 'group'
        ? {
            type: 'send' as const,
            requestId,
            groupId: item.target,
            clientMsgId: item.clientMsgId,
            payload: item.payload,
          }
        : {
            type: 'send_to_device' as const,
            requestId,
            deviceId: item.target,
            clientMsgId: item.clientMsgId,
            payload: item.payload,
          };
    this.write(encodeClientFrame(frame));
  }

  private write(bytes: Uint8Array): void {
    if (this.socket && this.socket.readyState === 1) this.socket.send(bytes);
  }

  private setState(state: ConnectionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private open(): void {
    if (this.stateValue === 'stopped') return;
    this.setState('connecting');
    const failover = this.options.failover;
    if (failover) {
      failover.connect().then(
        ({ socket, endpoint }) => {
          this.endpoint = endpoint;
          this.attach(socket);
        },
        (cause: unknown) =>
          this.scheduleReconnect(
            cause instanceof CourierError ? cause : new CourierError('SERVER_UNAVAILABLE', { cause }),
          ),
      );
      return;
    }
    const url = new URL(GATEWAY_PATH, this.options.url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    Promise.resolve((this.options.createSocket ?? defaultSocketFactory)(url.toString())).then(
      (socket) => this.attach(socket),
      (cause: unknown) => this.scheduleReconnect(new CourierError('SERVER_UNAVAILABLE', { cause })),
    );
  }

  private attach(socket: WebSocketLike): void {
    if (this.stateValue === 'stopped') {
      // Closing a socket that is still connecting makes `ws` emit an error: with no listener, that
      // would end the process (a client stopped before its socket opened).
      socket.onerror = () => {};
      socket.close(1000, 'bye');
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    const hello = () => {
      this.lastHeard = Date.now();
      this.write(
        encodeClientFrame({
          type: 'hello',
          protocolVersion: PROTOCOL_VERSION,
          token: this.options.token,
          client: this.options.client ?? 'courier-sdk',
          ...(this.options.sendOnly ? { sendOnly: true } : {}),
        }),
      );
    };
    socket.onopen = hello;
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.lastHeard = Date.now();
      const data = event.data;
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
      let frame: ServerFrame;
      try {
        frame = decodeServerFrame(bytes);
      } catch (error) {
        this.emit('problem', error as CourierError);
        return;
      }
      this.onFrame(frame);
    };
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      clearInterval(this.watchdog);
      this.lostEndpoint();
      const fatal = {
        [closeCodes.UNAUTHORIZED]: 'AUTH_INVALID_TOKEN',
        [closeCodes.SESSION_REVOKED]: 'AUTH_SESSION_REVOKED',
        // Another connection of this device took over: reconnecting would only push it off in turn.
        [closeCodes.REPLACED]: 'AUTH_CONNECTION_REPLACED',
      } as const;
      if (event.code in fatal) {
        // A suspended account (issue 12) is refused like a bad token; the close reason names it.
        const code =
          event.reason === 'ACCOUNT_SUSPENDED'
            ? 'ACCOUNT_SUSPENDED'
            : fatal[event.code as keyof typeof fatal];
        this.setState('stopped');
        this.emit('fatal', new CourierError(code));
        for (const pending of this.inFlight.values()) pending.reject(new CourierError(code));
        this.inFlight.clear();
        return;
      }
      this.scheduleReconnect(
        new CourierError('SERVER_UNAVAILABLE', {
          message: `Connection closed (${event.code} ${event.reason})`,
        }),
      );
    };
    // A socket that won a failover race is open already.
    if (socket.readyState === 1) hello();
  }

  /** With failover: the endpoint in use failed; it goes to the back of the next round. */
  private lostEndpoint(): void {
    const endpoint = this.endpoint;
    this.endpoint = undefined;
    if (endpoint) this.options.failover?.lost(endpoint);
  }

  private endpointReady(): void {
    const failover = this.options.failover;
    const endpoint = this.endpoint;
    if (!failover || !endpoint) return;
    const hadFailures = failover.ready(endpoint);
    this.emit('endpoint', {
      id: endpoint.id,
      kind: endpoint.kind,
      url: endpoint.url,
      switched: this.lastReadyEndpoint !== undefined && this.lastReadyEndpoint !== endpoint.id,
    });
    this.lastReadyEndpoint = endpoint.id;
    // Addresses are being blocked: fetch a fresh list through the way that works now.
    if (hadFailures)
      failover.refresh(endpoint, this.options.token).catch((cause: unknown) => {
        this.emit(
          'problem',
          new CourierError('SERVER_UNAVAILABLE', {
            message: 'The endpoint list could not be refreshed.',
            cause,
          }),
        );
      });
  }

  private scheduleReconnect(problem: CourierError): void {
    if (this.stateValue === 'stopped') return;
    this.emit('problem', problem);
    this.setState('connecting');
    const cap = this.options.reconnectCapMs ?? 10_000;
    const base = this.options.reconnectBaseMs ?? 200;
    const delay = Math.random() * Math.min(cap, base * 2 ** Math.min(this.attempt, 16));
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private startWatchdog(): void {
    const interval = this.options.pingIntervalMs ?? 15_000;
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      const socket = this.socket;
      if (!socket) return;
      if (Date.now() - this.lastHeard > interval * 2) {
        // Silent too long: presume the path dead and replace it.
        this.socket = undefined;
        socket.onclose = null;
        socket.close(4000, 'watchdog');
        clearInterval(this.watchdog);
        this.lostEndpoint();
        this.scheduleReconnect(
          new CourierError('SERVER_UNAVAILABLE', { message: 'The connection went silent.' }),
        );
        return;
      }
      this.write(encodeClientFrame({ type: 'ping', nonce: Date.now() }));
    }, interval);
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'ready':
        this.attempt = 0;
        this.setState('ready');
        this.startWatchdog();
        this.endpointReady();
        this.emit('ready', { accountId: frame.accountId, deviceId: frame.deviceId });
        for (const pending of this.inFlight.values()) this.transmit(pending.item);
        for (const waiter of this.readyWaiters.splice(0)) waiter();
        return;
      case 'accepted':
        this.onAccepted(frame.requestId, frame.seq, frame.duplicate);
        return;
      case 'entry':
        if (this.options.onEntryRun) {
          this.queueEntry(frame);
          return;
        }
        this.serially(async () => {
          if (frame.seq > this.options.store.lastSeq(frame.groupId)) {
            if ((await this.options.onEntry?.(frame)) === false) return;
            this.options.store.setLastSeq(frame.groupId, frame.seq);
          }
          this.ackLater(frame.groupId, frame.seq);
        });
        return;
      case 'mailbox_item':
        this.serially(async () => {
          if (frame.seq > this.options.store.lastMailboxSeq()) {
            await this.options.onMailboxItem?.(frame);
            this.options.store.setLastMailboxSeq(frame.seq);
          }
          this.pendingMailboxAck = Math.max(this.pendingMailboxAck, frame.seq);
          this.scheduleAckFlush();
        });
        return;
      case 'error':
        this.onRequestError(frame.requestId, frame.code, frame.message);
        return;
      case 'group_joined':
        this.serially(async () =>
          this.emit('group_joined', { groupId: frame.groupId, fromSeq: frame.fromSeq }),
        );
        return;
      case 'group_left':
        this.serially(async () => this.emit('group_left', { groupId: frame.groupId }));
        return;
      case 'goodbye':
        this.emit(
          'problem',
          new CourierError(isErrorCode(frame.code) ? frame.code : 'SERVER_UNAVAILABLE', {
            message: frame.message,
          }),
        );
        return;
      case 'pong':
        return;
      case 'channel_posted':
        this.emit('channel_posted', {
          channelId: frame.channelId,
          seq: frame.seq,
          ...(frame.post ? { post: frame.post } : {}),
        });
        return;
    }
  }

  /**
   * An entry joins the run of entries waiting for their turn, or starts one: what arrives while
   * earlier work goes on is handled together, still in arrival order (anything else queued after
   * an entry starts a new run behind it).
   */
  private queueEntry(frame: EntryFrame): void {
    if (this.entryRun && this.entryRun.length < MAX_ENTRY_RUN) {
      this.entryRun.push(frame);
      return;
    }
    const run = [frame];
    this.serially(async () => {
      if (this.entryRun === run) this.entryRun = undefined;
      await this.handleRun(run);
    });
    this.entryRun = run;
  }

  private async handleRun(run: EntryFrame[]): Promise<void> {
    const { store } = this.options;
    // New entries only (one already seen may come again after a reconnect), each once.
    const seen = new Map<string, number>();
    const fresh: EntryFrame[] = [];
    for (const frame of run) {
      const last = Math.max(store.lastSeq(frame.groupId), seen.get(frame.groupId) ?? 0);
      if (frame.seq <= last) continue;
      seen.set(frame.groupId, frame.seq);
      fresh.push(frame);
    }
    const handled = fresh.length > 0 ? await this.options.onEntryRun!(fresh) : [];
    const skipped = new Set(fresh.filter((_, i) => handled[i] === false));
    // Positions only grow: the newest handled one of each chat is the one to keep and acknowledge.
    const newest = new Map<string, number>();
    for (const frame of run)
      if (!skipped.has(frame)) newest.set(frame.groupId, Math.max(newest.get(frame.groupId) ?? 0, frame.seq));
    for (const [groupId, seq] of newest) {
      if (seq > store.lastSeq(groupId)) store.setLastSeq(groupId, seq);
      this.ackLater(groupId, seq);
    }
  }

  /** Entries and mailbox items are handled one at a time, in arrival order. */
  private serially(task: () => Promise<void>): void {
    this.entryRun = undefined;
    this.work = this.work.then(task).catch((error: unknown) => {
      this.emit(
        'problem',
        error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error }),
      );
    });
  }

  private onAccepted(requestId: number, seq: number, duplicate: boolean): void {
    const clientMsgId = this.byRequest.get(requestId);
    this.byRequest.delete(requestId);
    const pending = clientMsgId === undefined ? undefined : this.inFlight.get(clientMsgId);
    if (!pending || clientMsgId === undefined) return;
    this.inFlight.delete(clientMsgId);
    this.options.store.removeOutbox(clientMsgId);
    pending.resolve({ seq, duplicate, clientMsgId });
  }

  private onRequestError(requestId: number, code: string, message: string): void {
    const error = new CourierError(isErrorCode(code) ? code : 'INTERNAL', { message });
    const clientMsgId = this.byRequest.get(requestId);
    const pending = clientMsgId === undefined ? undefined : this.inFlight.get(clientMsgId);
    if (!pending || clientMsgId === undefined) {
      this.emit('problem', error);
      return;
    }
    this.byRequest.delete(requestId);
    if (error.status >= RETRYABLE_STATUS) {
      // The server could not store it this time: try again shortly with the same id.
      setTimeout(() => {
        if (this.inFlight.get(clientMsgId) === pending && this.stateValue === 'ready')
          this.transmit(pending.item);
      }, 500);
      return;
    }
    this.inFlight.delete(clientMsgId);
    this.options.store.removeOutbox(clientMsgId);
    pending.reject(error);
  }

  /**
   * Tells the server the account has read a channel up to `seq` (its subscription cursor moves),
   * coalesced: one frame per channel per `channelReadDelayMs` (and on stop). Lost on a dropped
   * socket, which costs only a re-read: the reader keeps its own cursor. The wait is drawn from 0.5–1.5
   * times the delay: every subscriber of a channel gets a post at the same moment, and equal waits would
   * bring all their reads to the server in one burst, in front of the next post's fan-out (the `channel`
   * bench: last-subscriber p99 at 10,000 subscribers 1.54× → 1.33× the floor's).
   */
  markChannelRead(channelId: string, seq: number): void {
    if (seq > (this.pendingChannelReads.get(channelId) ?? 0)) this.pendingChannelReads.set(channelId, seq);
    this.channelReadTimer ??= setTimeout(
      () => this.flushChannelReads(),
      (this.options.channelReadDelayMs ?? 2000) * (0.5 + Math.random()),
    );
  }

  private flushChannelReads(): void {
    clearTimeout(this.channelReadTimer);
    this.channelReadTimer = undefined;
    for (const [channelId, seq] of this.pendingChannelReads)
      this.write(encodeClientFrame({ type: 'channel_read', channelId, seq }));
    this.pendingChannelReads.clear();
  }

  private ackLater(groupId: string, seq: number): void {
    if (seq > (this.pendingAcks.get(groupId) ?? 0)) this.pendingAcks.set(groupId, seq);
    this.scheduleAckFlush();
  }

  private scheduleAckFlush(): void {
    if (this.ackTimer !== undefined) return;
    const delay = this.options.ackDelayMs ?? 200;
    const busy = Date.now() - this.lastAckAt < BUSY_ACK_FACTOR * delay;
    // Every recipient of a fan-out gets an entry at the same moment: a wait drawn from 0.5–1.5 times
    // the delay keeps their acks from reaching the server in one burst, in front of the next fan-out.
    this.ackTimer = setTimeout(
      () => this.flushAcks(),
      (busy ? BUSY_ACK_FACTOR * delay : delay) * (0.5 + Math.random()),
    );
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.pendingAcks.size > 0) this.lastAckAt = Date.now();
    for (const [groupId, seq] of this.pendingAcks)
      this.write(encodeClientFrame({ type: 'ack', groupId, seq }));
    this.pendingAcks.clear();
    this.flushChannelReads();
    if (this.pendingMailboxAck > 0) {
      this.write(encodeClientFrame({ type: 'mailbox_ack', seq: this.pendingMailboxAck }));
      this.pendingMailboxAck = 0;
    }
  }
}
