import { type ErrorCode, encodeServerFrame, type ServerFrame } from '@courier/protocol';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** Where a connection stands in one group: the last sequence number written (or skipped). */
export interface GroupPosition {
  sent: number;
  /** A catch-up read from the store is in flight. */
  reading: boolean;
}

/**
 * One authenticated device connection. It holds no messages: only positions. Writes stop when the
 * socket's unsent bytes pass the high-water mark (the connection is "paused") and resume below the
 * low-water mark, so a slow reader never grows server memory beyond one window.
 */
export class ClientConnection {
  readonly groups = new Map<string, GroupPosition>();
  mailboxSent = 0;
  mailboxReading = false;
  pausedSince = 0;
  closed = false;
  alive = true;
  /** Sends only: receives nothing, and does not take over from the device's receiving connection. */
  sendOnly = false;
  /** Sends taken from this socket and not answered yet (waiting for the store). */
  private inFlightBytes = 0;
  private inFlightSends = 0;
  private readingPaused = false;

  constructor(
    readonly ws: WebSocket,
    readonly accountId: string,
    readonly deviceId: string,
    readonly tokenHash: string,
    private readonly highWaterBytes: number,
    private readonly onPause: (connection: ClientConnection) => void,
    /** The most sends (and their payload bytes) this socket may have in flight; then reading stops. */
    private readonly inFlightLimits: { bytes: number; sends: number } = { bytes: Infinity, sends: Infinity },
    /** The TCP socket under `ws`, for frames already framed once for every connection (writeFramed). */
    private readonly socket?: Duplex,
  ) {}

  get paused(): boolean {
    return this.pausedSince !== 0;
  }

  /** Writes an encoded frame; returns false once the connection is paused or closed. */
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.ws.send(bytes);
    if (this.ws.bufferedAmount > this.highWaterBytes) {
      this.pausedSince = Date.now();
      this.onPause(this);
      return false;
    }
    return true;
  }

  /**
   * Writes a frame framed once for all connections (`frameOnce`): the same bytes go to every
   * member's socket, without a WebSocket header built per socket. As `write` otherwise.
   */
  writeFramed(frame: FramedOnce): boolean {
    if (this.closed) return false;
    // ws writes each frame synchronously (no compression, no Blob is ever sent here), so a frame
    // written beside it cannot land inside another; after a close frame nothing may follow.
    if (this.socket && this.ws.readyState === this.ws.OPEN) this.socket.write(frame.wire);
    else this.ws.send(frame.bytes);
    if (this.ws.bufferedAmount > this.highWaterBytes) {
      this.pausedSince = Date.now();
      this.onPause(this);
      return false;
    }
    return true;
  }

  /**
   * A send of `bytes` goes to the store. Once the socket's unanswered sends reach the limits, the
   * server stops reading it: the client's TCP window fills and pushes back, and the server holds
   * at most one window per socket, however fast a client pipelines (nothing is refused or lost).
   */
  sendStarted(bytes: number): void {
    this.inFlightBytes += bytes;
    this.inFlightSends += 1;
    if (!this.readingPaused && !this.withinInFlightLimits()) {
      this.readingPaused = true;
      this.ws.pause();
    }
  }

  /** The store answered a send of `bytes`: below the limits again, reading resumes. */
  sendSettled(bytes: number): void {
    this.inFlightBytes -= bytes;
    this.inFlightSends -= 1;
    if (this.readingPaused && this.withinInFlightLimits()) {
      this.readingPaused = false;
      if (!this.closed) this.ws.resume();
    }
  }

  private withinInFlightLimits(): boolean {
    return this.inFlightBytes < this.inFlightLimits.bytes && this.inFlightSends < this.inFlightLimits.sends;
  }

  send(frame: ServerFrame): void {
    if (!this.closed) this.ws.send(encodeServerFrame(frame));
  }

  /** Says why, then closes. */
  close(code: ErrorCode, closeCode: number, message?: string): void {
    if (this.closed) return;
    this.send({ type: 'goodbye', code, message: message ?? code });
    this.closed = true;
    this.ws.close(closeCode, code);
  }
}

/** An encoded server frame, and the same as one complete WebSocket binary frame (server to client). */
export interface FramedOnce {
  bytes: Uint8Array;
  wire: Buffer;
}

/**
 * Frames `bytes` as one final, unmasked, binary WebSocket frame (RFC 6455 §5.2: a server's frames
 * are not masked), once for every socket it goes to. Written here (ws's own framing is not part of
 * its typed API); the test checks it byte for byte against ws's Sender.
 */
export function frameOnce(bytes: Uint8Array): FramedOnce {
  const length = bytes.byteLength;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(header + length);
  wire[0] = 0x82; // FIN, opcode 2 (binary)
  if (length < 126) {
    wire[1] = length;
  } else if (length < 65536) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    wire.writeUInt32BE(length >>> 0, 6);
  }
  wire.set(bytes, header);
  // One buffer held (a fan-out cache keeps these): the frame's bytes are a view into it.
  return { bytes: wire.subarray(header), wire };
}
