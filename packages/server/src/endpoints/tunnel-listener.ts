import { TUNNEL_PATH } from '@courier/protocol';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { markRelayed } from '../http/client-ip.ts';
import { answerHandshakeErrors, requestPath } from '../http/upgrade.ts';

/**
 * The core's end of a blind relay: a WebSocket on `/v1/tunnel` whose bytes are a TLS session that
 * the client opened to this core (the relay only pipes them). The decrypted stream is handed to the
 * same HTTP server as a new connection, so the gateway and every route work through it unchanged.
 */
export class TunnelListener {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 1 << 20,
  });
  private readonly context;

  constructor(
    tls: { certFile: string; keyFile: string },
    private readonly server: Server,
    /** The inner TLS handshake must finish within this (a stranger's tunnel holds a socket until then). */
    private readonly handshakeTimeoutMs: number,
  ) {
    answerHandshakeErrors(this.wss);
    this.context = createSecureContext({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) });
  }

  /** Takes the upgrade if it is for the tunnel path; false leaves it to the gateway. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (requestPath(request.url) !== TUNNEL_PATH) return false;
    const outerAddress = request.socket.remoteAddress;
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      const inner = new TLSSocket(stream, { isServer: true, secureContext: this.context });
      // The peer the core sees is the relay (or whoever holds the outer connection), never more.
      Object.defineProperty(inner, 'remoteAddress', { value: outerAddress });
      // …and rate limits know it: everyone behind a relay must not share one per-IP bucket; and
      // connection limits count it once, as the outer connection.
      markRelayed(inner);
      stream.on('error', () => inner.destroy());
      inner.on('error', () => stream.destroy());
      const handshake = setTimeout(() => {
        inner.destroy();
        stream.destroy();
      }, this.handshakeTimeoutMs);
      inner.once('secure', () => clearTimeout(handshake));
      inner.once('close', () => clearTimeout(handshake));
      inner.once('secure', () => this.server.emit('connection', inner));
    });
    return true;
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}
