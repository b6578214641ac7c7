import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';

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
    // A relay's blind tunnel: the headers inside come from the client itself, never from a proxy.
    if (isRelayed(request.socket)) return address;
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

const relayed = new WeakSet<object>();

/** Marks a connection that arrived through a relay's blind tunnel (its address is the relay's). */
export function markRelayed(socket: Socket | object): void {
  relayed.add(socket);
}

export function isRelayed(socket: Socket | object): boolean {
  return relayed.has(socket);
}

/**
 * Where a request comes from, as far as rate limits are concerned. A direct client is its address;
 * a client behind one of our relays is only "that relay" (the blind tunnel hides its address from
 * the core by design), so it shares the relay's budget instead of one per-IP bucket.
 */
export type ClientSource = { kind: 'direct'; ip: string } | { kind: 'relay'; ip: string };

export function clientSourceResolver(
  trustedProxies: readonly string[],
): (request: IncomingMessage) => ClientSource {
  const ipOf = clientIpResolver(trustedProxies);
  return (request) => ({ kind: isRelayed(request.socket) ? 'relay' : 'direct', ip: ipOf(request) });
}

/**
 * The rate-limit bucket of an address: an IPv4 address itself, an IPv6 address its /64 (one
 * subscriber usually holds a whole /64, so per-address buckets would be free to multiply).
 */
export function addressBucket(address: string): string {
  const plain = unmap(address);
  if (isIP(plain) !== 6) return plain;
  return `${ipv6Hextets(plain).slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of a valid IPv6 address (zone dropped, embedded IPv4 converted), lower-case, unpadded. */
export function ipv6Hextets(address: string): string[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((h) => Number.parseInt(h, 16).toString(16));
}

/** The rate-limit key of a source: per address bucket for direct clients, per relay otherwise. */
export function sourceKey(source: ClientSource): string {
  return source.kind === 'relay' ? `relay:${unmap(source.ip)}` : `ip:${addressBucket(source.ip)}`;
}
