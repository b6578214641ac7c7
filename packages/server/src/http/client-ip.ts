import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

const unmap = (address: string): string =>
  address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;

/**
 * The client's address. X-Forwarded-For is believed only when the peer is a configured proxy,
 * and then only up to the first address that is not itself a trusted proxy (read right to left).
 */
export function clientIpResolver(trustedProxies: readonly string[]): (request: IncomingMessage) => string {
  const trusted = new Set(trustedProxies.map(unmap));
  return (request) => {
    let address = unmap(request.socket.remoteAddress ?? '');
    if (!trusted.has(address)) return address;
    const header = request.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((h) => unmap(h.trim()))
      .filter((h) => isIP(h) !== 0);
    for (let i = hops.length - 1; i >= 0; i--) {
      address = hops[i]!;
      if (!trusted.has(address)) return address;
    }
    return address;
  };
}
