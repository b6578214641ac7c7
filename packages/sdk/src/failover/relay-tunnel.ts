import { CourierError, type Endpoint, GATEWAY_PATH } from '@courier/protocol';
import type { WebSocketLike } from '../websocket-like.ts';
import { directSocketUrl, directTransport, type EndpointTransport } from './endpoint-failover.ts';

export interface RelayTunnelOptions {
  /** base64 SHA-256 of the core's TLS SubjectPublicKeyInfo, from the signed list (EndpointBook.corePins). */
  corePins: () => readonly string[];
  /** Server name sent in the inner TLS handshake (it travels encrypted inside the relay's TLS). */
  coreServerName?: string;
  /** Gives up an outer or inner handshake after this long. */
  handshakeTimeoutMs?: number;
}

/**
 * The blind relay mode (Node only): for a relay, open a WebSocket to its `<secret>/tunnel` path and
 * run TLS to the core *inside* it, accepting only a core key the signed list pins; the gateway's
 * WebSocket then runs inside that TLS. The relay sees only TLS records, so neither the session token
 * nor any frame metadata; the relay's own certificate needs no trust, since the inner one is pinned.
 * Cores are reached directly.
 */
export function relayTunnelTransport(options: RelayTunnelOptions): EndpointTransport {
  return async (endpoint: Endpoint): Promise<WebSocketLike> => {
    if (endpoint.kind !== 'relay') return directTransport(endpoint);
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
    const socket = new WebSocket(`ws://${options.coreServerName ?? 'courier-core'}${GATEWAY_PATH}`, {
      perMessageDeflate: false,
      createConnection: () => inner,
    });
    socket.on('close', () => outer.terminate());
    return socket as unknown as WebSocketLike;
  };
}

/** The pin of a PEM certificate's public key, as the signed list carries it (for operators and tests). */
export async function spkiPin(certificatePem: string): Promise<string> {
  const { X509Certificate, createHash } = await import('node:crypto');
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
