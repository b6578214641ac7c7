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
import type { LoadClient, LoadEntry } from './target.ts';

/**
 * A load-generating device: the real protocol (hello with its token, binary frames, cumulative
 * acks every 200 ms like the SDK), without the SDK's stores, so one process can hold thousands.
 */
export class LeanClient implements LoadClient {
  private ws: WebSocket | undefined;
  private nextRequest = 1;
  private readonly pending = new Map<number, (frame: ServerFrame) => void>();
  private readonly acks = new Map<string, number>();
  private ackTimer: NodeJS.Timeout | undefined;
  onEntry: (entry: LoadEntry) => void = () => {};

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    /** Shared by the load client's connections: each distinct frame decoded once (bench/decode-once.ts). */
    private readonly frames?: DecodeOnce<ServerFrame>,
  ) {}

  /** Resolves when the server's Ready frame arrived. */
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
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      for (const [g, s] of this.acks) this.ws?.send(encodeClientFrame({ type: 'ack', groupId: g, seq: s }));
      this.acks.clear();
    }, 200);
  }

  close(): void {
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
