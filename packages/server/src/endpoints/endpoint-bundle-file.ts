import { CourierError, parseEndpointList, parseEndpointTicket, type SignedDocument } from '@courier/protocol';
import { readFileSync, statSync } from 'node:fs';
import type { EndpointBundle } from './endpoint-bundle.ts';
import type { WeightedRelay } from './relay-subset.ts';

export interface LoadedBundle {
  bundle: EndpointBundle;
  relays: WeightedRelay[];
  /** The URL of every endpoint in the bundle (the list's and each relay's). */
  urls: string[];
}

/**
 * The signed bundle the operator drops on the core (`endpoints sign --out`). It is re-read when the
 * file changes, so a new list goes out without a restart. The server cannot forge or change it: it
 * holds no signing key, and clients verify every document against their pinned keys.
 */
export class EndpointBundleFile {
  private cached: { mtimeMs: number; loaded: LoadedBundle } | undefined;

  constructor(private readonly path: string) {}

  load(): LoadedBundle {
    const mtimeMs = statSync(this.path).mtimeMs;
    if (this.cached?.mtimeMs === mtimeMs) return this.cached.loaded;
    let bundle: EndpointBundle;
    try {
      bundle = JSON.parse(readFileSync(this.path, 'utf8')) as EndpointBundle;
    } catch (cause) {
      throw new CourierError('ENDPOINTS_MALFORMED', { message: `${this.path} is not JSON.`, cause });
    }
    if (!isSigned(bundle?.list) || typeof bundle.tickets !== 'object' || bundle.tickets === null)
      throw new CourierError('ENDPOINTS_MALFORMED', { message: `${this.path} is not an endpoint bundle.` });
    const relays: WeightedRelay[] = [];
    const urls = parseEndpointList(decodePayload(bundle.list)).endpoints.map((e) => e.url);
    for (const [id, ticket] of Object.entries(bundle.tickets)) {
      if (!isSigned(ticket))
        throw new CourierError('ENDPOINTS_MALFORMED', { message: `ticket ${id} is not signed.` });
      // The ticket's weight is read (not trusted for anything but spreading load).
      const payload = parseEndpointTicket(decodePayload(ticket));
      relays.push({ id, weight: payload.endpoint.weight });
      urls.push(payload.endpoint.url);
    }
    const loaded = { bundle, relays, urls: [...new Set(urls)] };
    this.cached = { mtimeMs, loaded };
    return loaded;
  }
}

function isSigned(value: unknown): value is SignedDocument {
  const doc = value as SignedDocument | undefined;
  return typeof doc?.payload === 'string' && typeof doc.signature === 'string';
}

function decodePayload(document: SignedDocument): unknown {
  try {
    return JSON.parse(Buffer.from(document.payload, 'base64').toString('utf8'));
  } catch (cause) {
    throw new CourierError('ENDPOINTS_MALFORMED', {
      message: 'A signed document of the bundle is not JSON.',
      cause,
    });
  }
}
