import { type ErrorCode, encodeServerFrame, type ServerFrame } from '@courier/protocol';
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
