import { STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CourierError } from '@courier/protocol';
import type { WebSocketServer } from 'ws';

const WEB_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);

/**
 * The path of a request target, or undefined when it does not parse. Any target a client sends
 * reaches the upgrade listeners, where no framework catches: absolute-form (`http://a:99999/v1/ws`,
 * an invalid port) and protocol-relative (`//a:99999/`) targets make `new URL` throw (issue 11,
 * item 1), so this never does.
 */
export function requestPath(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(target, 'http://x');
  } catch {
    return undefined;
  }
  // `a:b` parses too, as an opaque URL with no path.
  return WEB_SCHEMES.has(url.protocol) ? url.pathname : undefined;
}

const LINGER_MS = 5_000;

/**
 * Node removes its own 'error' listener from a socket it hands to an 'upgrade' listener: an error
 * (a reset) on it with no listener ends the process. Every upgrade listener calls this first.
 */
export function guardSocket(socket: Duplex): void {
  if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
}

/**
 * Answers an upgrade request (a raw socket, no framework) with the error envelope and closes the
 * connection once the answer is written.
 */
export function refuseUpgrade(socket: Duplex, error: CourierError, extraHeaders: string[] = []): void {
  guardSocket(socket);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // What the client still sends is read and dropped; a peer that never closes its side is cut.
  socket.resume();
  if (socket instanceof Socket) socket.setTimeout(LINGER_MS, () => socket.destroy());
  socket.end(errorResponse(error, extraHeaders));
}

/** A whole HTTP/1.1 answer carrying the error envelope, for sockets no framework answers on. */
export function errorResponse(error: CourierError, extraHeaders: string[] = []): string {
  const body = JSON.stringify(error.toEnvelope());
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    'X-Content-Type-Options: nosniff\r\n' +
    'Connection: close\r\n' +
    extraHeaders.map((h) => `${h}\r\n`).join('') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * Fastify's clientErrorHandler: what Node's HTTP parser refuses (bad bytes, headers too large, a
 * request that did not arrive within the timeouts) is answered with the error envelope and closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const typed =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new CourierError('REQ_TIMEOUT')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new CourierError('REQ_HEADERS_TOO_LARGE')
        : new CourierError('REQ_INVALID', { message: 'The request is not valid HTTP.' });
  if (socket.writable) socket.write(errorResponse(typed));
  socket.destroy();
}

/**
 * A WebSocket handshake ws refuses (no key, wrong version, not GET…) is answered with the error
 * envelope like every other reply, instead of ws's bare text.
 */
export function answerHandshakeErrors(wss: WebSocketServer): WebSocketServer {
  return wss.on('wsClientError', (error: Error, socket: Duplex) => {
    refuseUpgrade(
      socket,
      new CourierError('REQ_INVALID', { message: `The WebSocket handshake is invalid: ${error.message}.` }),
      /Version/.test(error.message) ? ['Sec-WebSocket-Version: 13'] : [],
    );
  });
}
