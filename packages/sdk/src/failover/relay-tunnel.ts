import type { TLSSocket } from 'node:tls';
import { CourierError, ENDPOINTS_PATH, type Endpoint, GATEWAY_PATH } from '@courier/protocol';
import type { WebSocketLike } from '../websocket-like.ts';
import {
  directSocketUrl,
  directTransport,
  type EndpointListReply,
  type EndpointTransport,
  fetchListDirect,
  type ListFetcher,
} from './endpoint-failover.ts';

export interface RelayTunnelOptions {
  /** base64 SHA-256 of the core's TLS SubjectPublicKeyInfo, from the signed list (EndpointBook.corePins). */
  corePins: () => readonly string[];
  /** Server name sent in the inner TLS handshake (it travels encrypted inside the relay's TLS). */
  coreServerName?: string;
  /** Gives up an outer or inner handshake after this long. */
  handshakeTimeoutMs?: number;
}

/**
 * Opens the blind tunnel through a relay (Node only): a WebSocket to its `<secret>/tunnel` path,
 * and TLS to the core *inside* it, accepting only a core key that the signed list pins. The relay
 * sees TLS records only; its own certificate needs no trust, since the inner one is pinned.
 */
async function openTunnel(
  endpoint: Endpoint,
  options: RelayTunnelOptions,
): Promise<{ inner: TLSSocket; close: () => void }> {
  const pins = options.corePins();
  if (pins.length === 0)
    throw new CourierError('ENDPOINTS_MALFORMED', {
      message: 'The endpoint list pins no core key; no blind tunnel.',
    });
  const [{ WebSocket, createWebSocketStream }, tls, { createHash }] = await Promise.all([
    import('ws'),
    import('node:tls'),
    import('node:crypto'),
  ]);
  const timeout = options.handshakeTimeoutMs ?? 10_000;
  const outerUrl = new URL(directSocketUrl(endpoint));
  outerUrl.pathname = `${outerUrl.pathname.replace(/\/+$/, '')}/tunnel`;
  const outer = new WebSocket(outerUrl, {
    perMessageDeflate: false,
    handshakeTimeout: timeout,
    // The relay's certificate is not what protects the session: the inner TLS is pinned.
    rejectUnauthorized: false,
    ...(endpoint.sni ? { servername: endpoint.sni, headers: { host: endpoint.sni } } : {}),
  });
  outer.on('error', () => {});
  const stream = createWebSocketStream(outer);
  const inner = tls.connect({
    socket: stream,
    servername: options.coreServerName ?? 'courier-core',
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('The tunnelled TLS handshake timed out.')), timeout);
    const fail = (cause: unknown) => {
      clearTimeout(timer);
      inner.destroy();
      outer.terminate();
      reject(new CourierError('SERVER_UNAVAILABLE', { message: 'The relay tunnel failed.', cause }));
    };
    inner.once('error', fail);
    stream.once('error', fail);
    // For the tunnel's whole life, not only its handshake: whoever uses `inner` next (the gateway's
    // WebSocket, a list request) listens only part of the time, and an error with no listener ends
    // the process. Each error is followed by `close`, which is what the users act on.
    inner.on('error', () => {});
    stream.on('error', () => {});
    inner.once('secureConnect', () => {
      const certificate = inner.getPeerX509Certificate();
      const spki = certificate?.publicKey.export({ type: 'spki', format: 'der' });
      const pin = spki ? createHash('sha256').update(spki).digest('base64') : '';
      if (!pins.includes(pin)) return fail(new Error('The core key behind the relay is not pinned.'));
      clearTimeout(timer);
      inner.off('error', fail);
      resolve();
    });
  });
  return { inner, close: () => outer.terminate() };
}

/**
 * The blind relay mode as a failover transport: for a relay, the gateway's WebSocket runs inside the
 * pinned tunnel, so the relay sees neither the session token nor any frame metadata. Cores are
 * reached directly.
 */
export function relayTunnelTransport(options: RelayTunnelOptions): EndpointTransport {
  return async (endpoint: Endpoint): Promise<WebSocketLike> => {
    if (endpoint.kind !== 'relay') return directTransport(endpoint);
    const [{ WebSocket }, tunnel] = await Promise.all([import('ws'), openTunnel(endpoint, options)]);
    const socket = new WebSocket(`ws://${options.coreServerName ?? 'courier-core'}${GATEWAY_PATH}`, {
      perMessageDeflate: false,
      createConnection: () => tunnel.inner,
    });
    socket.on('close', tunnel.close);
    return socket as unknown as WebSocketLike;
  };
}

/**
 * Fetches the endpoint list through the blind tunnel when the endpoint is a relay, so the session
 * token rides inside the pinned TLS and the core can add this account's relays; cores directly.
 */
export function relayTunnelListFetcher(options: RelayTunnelOptions): ListFetcher {
  return async (endpoint, token, timeoutMs) => {
    if (endpoint.kind !== 'relay') return fetchListDirect(endpoint, token, timeoutMs);
    const [{ request }, tunnel] = await Promise.all([import('node:http'), openTunnel(endpoint, options)]);
    try {
      return await new Promise<EndpointListReply>((resolve, reject) => {
        const req = request(
          {
            host: options.coreServerName ?? 'courier-core',
            path: ENDPOINTS_PATH,
            headers: token ? { authorization: `Bearer ${token}` } : {},
            createConnection: () => tunnel.inner,
            timeout: timeoutMs,
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () => {
              if (res.statusCode !== 200)
                return reject(
                  new CourierError('SERVER_UNAVAILABLE', {
                    message: `List refresh answered ${res.statusCode}.`,
                  }),
                );
              try {
                resolve(JSON.parse(body) as EndpointListReply);
              } catch (cause) {
                reject(
                  new CourierError('ENDPOINTS_MALFORMED', { message: 'The list reply is not JSON.', cause }),
                );
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('List refresh timed out.')));
        req.on('error', reject);
        req.end();
      });
    } finally {
      tunnel.close();
    }
  };
}

/** The pin of a PEM certificate's public key, as the signed list carries it (for operators and tests). */
export async function spkiPin(certificatePem: string): Promise<string> {
  const { X509Certificate, createHash } = await import('node:crypto');
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
