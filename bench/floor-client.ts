import WebSocket from 'ws';
import type { DecodeOnce } from './decode-once.ts';
import {
  decodeEntry,
  type FloorEntry,
  encodeJoin,
  encodeSend,
  FloorOp,
  requestIdOf,
} from './floor-protocol.ts';
import type { LoadClient, LoadEntry } from './target.ts';

const HELLO = new Uint8Array([FloorOp.hello]);

/** A load client of the floor relay (bench/floor-server.ts), with the LeanClient's shape. */
export class FloorClient implements LoadClient {
  private ws: WebSocket | undefined;
  private nextRequest = 1;
  private readonly pending = new Map<number, () => void>();
  onEntry: (entry: LoadEntry) => void = () => {};

  constructor(
    private readonly url: string,
    /** Groups joined on connecting, before any send. */
    private readonly groups: readonly string[],
    /** Shared by the load client's connections: each distinct entry frame decoded once (bench/decode-once.ts). */
    private readonly entries?: DecodeOnce<FloorEntry>,
  ) {}

  connect(): Promise<void> {
    const ws = new WebSocket(this.url, { perMessageDeflate: false });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.on('open', () => {
        for (const group of this.groups) ws.send(encodeJoin(group));
        ws.send(HELLO);
      });
      ws.on('error', reject);
      ws.on('message', (data: Buffer) => {
        switch (data[0]) {
          case FloorOp.ready:
            resolve();
            return;
          case FloorOp.entry: {
            const entry = this.entries ? this.entries.get(data) : decodeEntry(data);
            this.onEntry({ kind: 'message', clientMsgId: entry.clientMsgId, payload: entry.payload });
            return;
          }
          case FloorOp.accepted: {
            const id = requestIdOf(data);
            const done = this.pending.get(id);
            this.pending.delete(id);
            done?.();
            return;
          }
        }
      });
    });
  }

  send(groupId: string, clientMsgId: string, payload: Uint8Array): Promise<void> {
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      this.pending.set(requestId, resolve);
      this.ws?.send(encodeSend(requestId, groupId, clientMsgId, payload));
    });
  }

  close(): void {
    this.ws?.terminate();
  }
}
