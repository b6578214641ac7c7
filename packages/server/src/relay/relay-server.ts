import { ENDPOINTS_PATH, GATEWAY_PATH, TUNNEL_PATH } from '@courier/protocol';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { guardSocket } from '../http/upgrade.ts';
import {
  type DecoyAnswer,
  decoyAnswer,
  decoyBadGateway,
  decoyGarbageAnswer,
  renderDecoy,
} from './decoy-site.ts';

export interface RelayLimits {
  /** Open connections at once; more are refused by the kernel accept queue (server.maxConnections). */
  maxConnections: number;
  /** New connections per source address per second; more are closed at once. */
  connectsPerSourcePerSecond: number;
  /** Bytes of request head accepted before the upgrade (Node's maxHeaderSize). */
  maxBytesBeforeUpgrade: number;
  /** A connection must finish its request head within this time. */
  headTimeoutMs: number;
}

export const defaultRelayLimits: RelayLimits = {
  maxConnections: 10_000,
  connectsPerSourcePerSecond: 20,
  maxBytesBeforeUpgrade: 8 * 1024,
  headTimeoutMs: 10_000,
};

export interface RelayOptions {
  /** The core's base URL (http: or https:); upgrades go to its gateway and tunnel paths. */
  upstream: string;
  /** The secret path, e.g. `/a8f3…`; anything else gets the decoy site. */
  path: string;
  /** The relay's own certificate; without it the relay speaks plain HTTP (tests, or behind a TLS terminator). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  limits?: Partial<RelayLimits>;
  now?: () => number;
  /** Upstream TLS: accept the core's certificate without a CA (a pinned private network). */
  dangerouslyTrustUpstream?: boolean;
}

/** Aggregate counters: the only thing a relay reports. No address, path or byte of content. */
export interface RelayCounters {
  connections: number;
  refusedRate: number;
  upgrades: number;
  upstreamFailures: number;
  decoyAnswers: number;
  garbage: number;
  bytesUp: number;
  bytesDown: number;
  endpointLists: number;
}

export interface Relay {
  server: Server;
  counters: RelayCounters;
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

const HOP_HEADERS = new Set([
  'host',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
  'x-real-ip',
]);

/**
 * A relay: an HTTPS server that looks like a stock nginx default site, except that a WebSocket
 * upgrade on its secret path is piped byte for byte to the core. It parses nothing beyond that
 * upgrade's request head, holds no data and no key of the core, and counts only aggregates.
 */
export function createRelay(options: RelayOptions): Relay {
  const limits = { ...defaultRelayLimits, ...options.limits };
  const now = options.now ?? Date.now;
  const upstream = new URL(options.upstream);
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:')
    throw new Error('The relay upstream must be an http: or https: URL of the core.');
  const secret = options.path.replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9._~-]{8,}$/.test(secret))
    throw new Error('The secret path must be / and at least 8 URL-safe characters.');
  const counters: RelayCounters = {
    connections: 0,
    refusedRate: 0,
    upgrades: 0,
    upstreamFailures: 0,
    decoyAnswers: 0,
    garbage: 0,
    bytesUp: 0,
    bytesDown: 0,
    endpointLists: 0,
  };
  const serverOptions = {
    maxHeaderSize: limits.maxBytesBeforeUpgrade,
    headersTimeout: limits.headTimeoutMs,
    requestTimeout: limits.headTimeoutMs,
    maxRequestsPerSocket: 100,
  };
  const server: Server = options.tls
    ? createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key })
    : createHttpServer(serverOptions);
  server.maxConnections = limits.maxConnections;

  // Connects per source per second: only this second's counts are held, then forgotten.
  let window = 0;
  let perSource = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const second = Math.floor(now() / 1000);
    if (second !== window) {
      window = second;
      perSource = new Map();
    }
    const source = socket.remoteAddress ?? '';
    const count = (perSource.get(source) ?? 0) + 1;
    perSource.set(source, count);
    if (count > limits.connectsPerSourcePerSecond) {
      counters.refusedRate += 1;
      socket.destroy();
      return;
    }
    counters.connections += 1;
  });

  const answer = (res: ServerResponse, decoy: DecoyAnswer, method: string) => {
    counters.decoyAnswers += 1;
    res.sendDate = false;
    res.writeHead(decoy.status, decoy.reason, decoy.headers.flat());
    res.end(method === 'HEAD' ? undefined : decoy.body);
  };
  const answerRaw = (socket: Duplex, decoy: DecoyAnswer, method: string) => {
    counters.decoyAnswers += 1;
    socket.end(renderDecoy({ ...decoy, close: true, headers: withClose(decoy.headers) }, method));
  };

  let cachedList: { at: number; body: string } | undefined;
  const endpointList = async (): Promise<string | undefined> => {
    if (cachedList && now() - cachedList.at < 60_000) return cachedList.body;
    const reply = await fetch(new URL(ENDPOINTS_PATH, upstream), { signal: AbortSignal.timeout(5000) });
    if (!reply.ok) return cachedList?.body;
    const body = await reply.text();
    cachedList = { at: now(), body };
    return body;
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    if (method === 'GET' && req.url === `${secret}/endpoints`) {
      // The signed list is public and verified by the client; the relay only passes it on.
      endpointList().then(
        (body) => {
          if (body === undefined) return answer(res, decoyBadGateway(now()), method);
          counters.endpointLists += 1;
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(body);
        },
        () => answer(res, decoyBadGateway(now()), method),
      );
      return;
    }
    answer(res, decoyAnswer(method, req.url ?? '/', now()), method);
  });

  server.on('clientError', (_error: Error, socket: Duplex) => {
    counters.garbage += 1;
    if (socket.writable) socket.end(renderDecoy(decoyGarbageAnswer(now())));
    else socket.destroy();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the socket over without its 'error' listener: a reset must not end the relay.
    guardSocket(socket);
    try {
      pipeUpgrade(req, socket, head);
    } catch {
      socket.destroy();
    }
  });
  const pipeUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const method = req.method ?? 'GET';
    const target =
      method !== 'GET' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket'
        ? undefined
        : req.url === secret
          ? GATEWAY_PATH
          : req.url === `${secret}/tunnel`
            ? TUNNEL_PATH
            : undefined;
    if (target === undefined) return answerRaw(socket, decoyAnswer(method, req.url ?? '/', now()), method);
    counters.upgrades += 1;
    const port = Number(upstream.port || (upstream.protocol === 'https:' ? 443 : 80));
    const up: Socket =
      upstream.protocol === 'https:'
        ? tlsConnect({
            host: upstream.hostname,
            port,
            servername: upstream.hostname,
            rejectUnauthorized: !options.dangerouslyTrustUpstream,
          })
        : netConnect({ host: upstream.hostname, port });
    let lines = `GET ${target} HTTP/1.1\r\nHost: ${upstream.host}\r\n`;
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (!HOP_HEADERS.has(name.toLowerCase())) lines += `${name}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    up.write(`${lines}\r\n`);
    if (head.length > 0) up.write(head);
    let connected = false;
    up.once(upstream.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      connected = true;
    });
    up.on('error', () => {
      if (!connected) {
        counters.upstreamFailures += 1;
        if (socket.writable) answerRaw(socket, decoyBadGateway(now()), method);
      }
      socket.destroy();
    });
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
    up.on('close', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      counters.bytesUp += chunk.length;
    });
    up.on('data', (chunk: Buffer) => {
      counters.bytesDown += chunk.length;
    });
    socket.pipe(up);
    up.pipe(socket);
  };

  const sockets = new Set<Duplex>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    server,
    counters,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          const bound = typeof address === 'object' && address ? address.port : port;
          resolve(`${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function withClose(headers: [string, string][]): [string, string][] {
  return headers.map(([k, v]) => (k === 'Connection' ? [k, 'close'] : [k, v]));
}
