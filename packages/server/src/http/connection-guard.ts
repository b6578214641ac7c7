import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CourierError } from '@courier/protocol';
import type { Clock } from '../deps.ts';
import { addressBucket, isRelayed } from './client-ip.ts';
import { errorResponse } from './upgrade.ts';

export interface ConnectionLimits {
  /** Open connections at once, of everyone. */
  maxConnections: number;
  /** Open connections from one address (an IPv6 /64 is one address). */
  maxConnectionsPerIp: number;
  /** New connections one address may open per window. */
  connectsPerIp: number;
  connectRateWindowMs: number;
}

/** Sockets refused at connect: whatever request still arrives on one is dropped unanswered. */
const refused = new WeakSet<object>();

export function isRefused(socket: object): boolean {
  return refused.has(socket);
}

const LINGER_MS = 1_000;

/**
 * Caps on connections before anyone is authenticated (issue 11, item 4): open connections in total
 * and per address, and new connections per address per window. A refused connection is answered
 * with the error envelope (CONN_*) and closed; addresses in `exempt` (trusted proxies, the
 * operator's relays, whose clients all share their address) count only towards the total.
 */
export class ConnectionGuard {
  private open = 0;
  private readonly openPerKey = new Map<string, number>();
  private window = Number.NaN;
  private connects = new Map<string, number>();
  private readonly exempt: Set<string>;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly clock: Clock,
    exempt: readonly string[],
  ) {
    this.exempt = new Set(exempt.map(addressBucket));
  }

  get openConnections(): number {
    return this.open;
  }

  /**
   * Counts a new connection from `address`; returns why it is refused, or a release to call on
   * close. `inTotal: false` counts it per address only (its connection was counted already).
   */
  admit(address: string, inTotal = true): CourierError | (() => void) {
    const key = addressBucket(address);
    const counted = !this.exempt.has(key);
    if (counted) {
      const window = Math.floor(this.clock.now() / this.limits.connectRateWindowMs);
      if (window !== this.window) {
        // Only this window's counts are held.
        this.window = window;
        this.connects = new Map();
      }
      const connects = (this.connects.get(key) ?? 0) + 1;
      this.connects.set(key, connects);
      if (connects > this.limits.connectsPerIp) return new CourierError('CONN_RATE_LIMITED');
    }
    if (inTotal && this.open >= this.limits.maxConnections) return new CourierError('CONN_TOO_MANY');
    if (counted && (this.openPerKey.get(key) ?? 0) >= this.limits.maxConnectionsPerIp)
      return new CourierError('CONN_TOO_MANY_FROM_ADDRESS');
    if (inTotal) this.open += 1;
    if (counted) this.openPerKey.set(key, (this.openPerKey.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (inTotal) this.open -= 1;
      if (!counted) return;
      const left = (this.openPerKey.get(key) ?? 1) - 1;
      if (left === 0) this.openPerKey.delete(key);
      else this.openPerKey.set(key, left);
    };
  }

  /** Admits or refuses every connection the server accepts. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      if (isRelayed(socket)) return;
      const address = socket.remoteAddress ?? '';
      const admitted = this.admit(address);
      if (admitted instanceof CourierError) {
        refuseConnection(socket, admitted);
        return;
      }
      if (!this.exempt.has(addressBucket(address))) this.countedPerAddress.add(socket);
      socket.once('close', admitted);
    });
  }

  private readonly countedPerAddress = new WeakSet<object>();

  /**
   * A WebSocket stays open for hours: one arriving through a trusted proxy (whose own connections
   * are not limited per address) is counted by the client address the proxy reports, while open.
   */
  admitUpgrade(socket: Duplex, clientAddress: string): CourierError | undefined {
    if (this.countedPerAddress.has(socket) || isRelayed(socket)) return undefined;
    const admitted = this.admit(clientAddress, false);
    if (admitted instanceof CourierError) return admitted;
    socket.once('close', admitted);
    return undefined;
  }
}

/** Answers a connection with the error envelope before reading anything, and closes it. */
function refuseConnection(socket: Socket, error: CourierError): void {
  refused.add(socket);
  socket.on('error', () => socket.destroy());
  socket.end(errorResponse(error));
  // A peer that never closes its side is cut; a refused socket lives no longer than this.
  socket.setTimeout(LINGER_MS, () => socket.destroy());
}
