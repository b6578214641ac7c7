import { opaqueApplicationMessage, opaqueOverhead } from '@courier/mls';
import {
  decodeServerFrame,
  encodeClientFrame,
  GATEWAY_PATH,
  PROTOCOL_VERSION,
  type ServerFrame,
} from '@courier/protocol';
import WebSocket from 'ws';
import type { DecodeOnce } from './decode-once.ts';
import { SlotTimers } from './slot-timers.ts';
import type { LoadClient, LoadEntry } from './target.ts';

/** How long a device coalesces its cumulative acks before the spread below (the SDK's ackDelayMs). */
export const ACK_DELAY_MS = 200;
/** While entries keep coming (the last ack went less than this ago), the wait before the spread (the SDK's 5 × ackDelayMs). */
export const BUSY_ACK_DELAY_MS = 5 * ACK_DELAY_MS;

/** The wait before the next acks: longer while entries keep coming, spread by `spread` in [0, 1). */
const ackWait = (lastAckAt: number, spread: number): number =>
  (Date.now() - lastAckAt < BUSY_ACK_DELAY_MS ? BUSY_ACK_DELAY_MS : ACK_DELAY_MS) * (0.5 + spread);

/**
 * The acks of a load client's connections in one group, shaped as the SDK sends them: each
 * connection's newest position per group, sent after its first unacknowledged entry with a wait of
 * 0.5–1.5 × ACK_DELAY_MS, or BUSY_ACK_DELAY_MS while entries keep coming (the slot's last acks went
 * less than that ago; drawn at random in the SDK; here the connections are spread evenly over
 * SLOTS timers, so that one timer serves many connections of the load process), and an ack frame for
 * the same group and position encoded once. Every recipient of a fan-out gets the entry at about the
 * same moment: equal waits would bring all their acks to the server in one burst, in front of a
 * later message's fan-out.
 */
export class AckFlusher {
  private readonly timers = new SlotTimers<LeanClient>(ackWait, (client) => client.flushAcks());
  /** The last ack frame encoded for each group. */
  private readonly encoded = new Map<string, { seq: number; bytes: Uint8Array }>();

  /** The slot of a new connection: round-robin, so that the slots are equally full. */
  slot(): number {
    return this.timers.slot();
  }

  later(client: LeanClient, slot: number): void {
    this.timers.later(client, slot);
  }

  frame(groupId: string, seq: number): Uint8Array {
    const last = this.encoded.get(groupId);
    if (last?.seq === seq) return last.bytes;
    const bytes = encodeClientFrame({ type: 'ack', groupId, seq });
    this.encoded.set(groupId, { seq, bytes });
    return bytes;
  }
}

/**
 * A load-generating device: the real protocol (hello with its token, binary frames, cumulative
 * acks after 0.5–1.5 × 200 ms, or 1 s while entries keep coming, like the SDK), without the SDK's stores, so one process can hold thousands.
 */
export class LeanClient implements LoadClient {
  private ws: WebSocket | undefined;
  private nextRequest = 1;
  private readonly pending = new Map<number, (frame: ServerFrame) => void>();
  private readonly acks = new Map<string, number>();
  private ackTimer: NodeJS.Timeout | undefined;
  private lastAckAt = 0;
  private readonly ackSlot: number;
  private closed = false;
  onEntry: (entry: LoadEntry) => void = () => {};

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly shared: {
      /** Shared by the load client's connections: each distinct frame decoded once (bench/decode-once.ts). */
      frames?: DecodeOnce<ServerFrame>;
      /** Shared by the connections of one group: acks spread over its timers, each frame encoded once. */
      acks?: AckFlusher;
    } = {},
  ) {
    this.ackSlot = shared.acks?.slot() ?? 0;
  }

  /** Resolves when the server's Ready frame arrived. */
  connect(): Promise<void> {
    const url = new URL(GATEWAY_PATH, this.baseUrl);
    url.protocol = 'ws:';
    const ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws = ws;
    const frames = this.shared.frames;
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
        const frame = frames ? frames.get(data as Buffer) : decodeServerFrame(data as Buffer);
        switch (frame.type) {
          case 'ready':
            resolve();
            return;
          case 'entry':
            this.onEntry(frame);
            this.ack(frame.groupId, frame.seq);
            return;
          case 'accepted':
          case 'error': {
            const done = this.pending.get(frame.requestId);
            this.pending.delete(frame.requestId);
            done?.(frame);
            return;
          }
          default:
            return;
        }
      });
    });
  }

  /** Sends and resolves once the server accepted it durably. */
  send(groupId: string, clientMsgId: string, payload: Uint8Array): Promise<number> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, (frame) =>
        frame.type === 'accepted'
          ? resolve(frame.seq)
          : reject(new Error(frame.type === 'error' ? frame.code : 'unexpected')),
      );
      this.ws?.send(encodeClientFrame({ type: 'send', requestId, groupId, clientMsgId, payload }));
    });
  }

  private ack(groupId: string, seq: number): void {
    this.acks.set(groupId, seq);
    if (this.shared.acks) this.shared.acks.later(this, this.ackSlot);
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), ackWait(this.lastAckAt, Math.random()));
  }

  /** Sends the newest position of each group entries came from since the last flush. */
  flushAcks(): void {
    this.ackTimer = undefined;
    if (this.closed) return;
    this.lastAckAt = Date.now();
    for (const [g, s] of this.acks)
      this.ws?.send(
        this.shared.acks
          ? this.shared.acks.frame(g, s)
          : encodeClientFrame({ type: 'ack', groupId: g, seq: s }),
      );
    this.acks.clear();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.ackTimer);
    this.ws?.terminate();
  }
}

/**
 * A payload of `size` bytes in all, shaped as an MLS application message for the group (the server
 * takes nothing else), whose ciphertext ends with the send time (ms since the epoch, sub-ms
 * precision). The ciphertext is the last field of a PrivateMessage, so the stamp is the last 8 bytes.
 */
export function stampedPayload(groupId: string, size: number): Uint8Array {
  const body = new Uint8Array(Math.max(8, size - opaqueOverhead(groupId, size)));
  const payload = opaqueApplicationMessage(groupId, body);
  new DataView(payload.buffer, payload.byteOffset).setFloat64(payload.byteLength - 8, now());
  return payload;
}

export function stampOf(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getFloat64(
    payload.byteLength - 8,
  );
}

export const now = (): number => performance.timeOrigin + performance.now();
