import {
  CourierError,
  type EndpointList,
  fromBase64,
  parseEndpointList,
  type SignedDocument,
  signEndpointList,
  signEndpointTicket,
} from '@courier/protocol';
import { readFileSync } from 'node:fs';

/**
 * What `endpoints sign` writes and the core serves: the signed list (cores and the bootstrap pool of
 * relays) and every relay signed on its own, so that the core can hand each account its own subset
 * and people can share one relay as a link.
 */
export interface EndpointBundle {
  list: SignedDocument;
  tickets: Record<string, SignedDocument>;
}

export function readSigningKey(file: string): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new CourierError('ENDPOINTS_MALFORMED', { message: `The key file ${file} is not JSON.`, cause });
  }
  const secret = (parsed as { secretKey?: unknown } | null)?.secretKey;
  const bytes = typeof secret === 'string' ? fromBase64(secret) : undefined;
  if (bytes?.length !== 32)
    throw new CourierError('ENDPOINTS_MALFORMED', {
      message: `The key file ${file} has no 32-byte secretKey.`,
    });
  return bytes;
}

/** Signs the list: the public part (cores + bootstrap relays) as one document, each relay as a ticket. */
export function signBundle(
  list: EndpointList,
  secretKey: Uint8Array,
  bootstrap?: readonly string[],
): EndpointBundle {
  const full = parseEndpointList(list);
  const relays = full.endpoints.filter((e) => e.kind === 'relay');
  for (const id of bootstrap ?? [])
    if (!relays.some((r) => r.id === id))
      throw new CourierError('ENDPOINTS_MALFORMED', { message: `Bootstrap relay ${id} is not in the list.` });
  const publicList: EndpointList = {
    ...full,
    endpoints: full.endpoints.filter((e) => e.kind === 'core' || !bootstrap || bootstrap.includes(e.id)),
  };
  const tickets: Record<string, SignedDocument> = {};
  for (const endpoint of relays)
    tickets[endpoint.id] = signEndpointTicket(
      { version: 1, endpoint, issuedAt: full.issuedAt, expiresAt: full.expiresAt, corePins: full.corePins },
      secretKey,
    );
  return { list: signEndpointList(publicList, secretKey), tickets };
}
