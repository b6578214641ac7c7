import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CourierError, fromBase64 } from '@courier/protocol';
import {
  type EndpointBookState,
  EndpointBook,
  EndpointFailover,
  type EndpointInUse,
  relayTunnelListFetcher,
  relayTunnelTransport,
} from '@courier/sdk';
import { writeFileAtomic } from './atomic-file.ts';

/**
 * Failover for the CLI (docs/censorship.md). It is on when the endpoint-list keys are pinned:
 *   COURIER_ENDPOINT_KEYS   the list-signing public keys, base64, comma-separated (current,next)
 *   COURIER_ENDPOINT_LIST   optional: a signed list (JSON `{payload, signature}` or a bundle with `list`) to start from
 *   COURIER_ENDPOINT_LINK   optional: a courier://endpoint link someone shared
 * The last good list, the account's relays and the last good endpoint are kept in <profile>/endpoints.json.
 */
export type CliFailover = EndpointFailover & { remember(endpoint: EndpointInUse): void };

export function endpointFailoverFromEnv(profileDir: string, env: NodeJS.ProcessEnv): CliFailover | undefined {
  const keys = env.COURIER_ENDPOINT_KEYS?.split(',').filter(Boolean);
  if (!keys || keys.length === 0) return undefined;
  const trustedKeys = keys.map((text) => {
    const key = fromBase64(text.trim());
    if (key?.length !== 32)
      throw new CourierError('ENDPOINTS_MALFORMED', {
        message: 'COURIER_ENDPOINT_KEYS holds a key that is not 32 bytes of base64.',
      });
    return key;
  });
  const statePath = join(profileDir, 'endpoints.json');
  const saved = existsSync(statePath)
    ? (JSON.parse(readFileSync(statePath, 'utf8')) as EndpointBookState & { lastGood?: string })
    : {};
  let lastGood = saved.lastGood;
  let state: EndpointBookState = saved;
  const save = () =>
    writeFileAtomic(statePath, JSON.stringify({ ...state, ...(lastGood ? { lastGood } : {}) }));
  const bootstrapFile = env.COURIER_ENDPOINT_LIST;
  const bootstrapJson = bootstrapFile
    ? (JSON.parse(readFileSync(bootstrapFile, 'utf8')) as { list?: unknown })
    : undefined;
  const book = new EndpointBook({
    trustedKeys,
    saved,
    ...(bootstrapJson ? { bootstrap: (bootstrapJson.list ?? bootstrapJson) as never } : {}),
    onChange: (next) => {
      state = next;
      save();
    },
  });
  if (bootstrapJson) book.offerList(bootstrapJson.list ?? bootstrapJson);
  if (env.COURIER_ENDPOINT_LINK) book.addLink(env.COURIER_ENDPOINT_LINK);
  state = book.state();
  if (book.endpoints().length === 0)
    throw new CourierError('ENDPOINTS_MALFORMED', {
      message:
        'Endpoint keys are pinned but no valid signed list or link is held: set COURIER_ENDPOINT_LIST or COURIER_ENDPOINT_LINK.',
    });
  const failover = new EndpointFailover({
    book,
    ...(lastGood ? { lastGood } : {}),
    transport: relayTunnelTransport({ corePins: () => book.corePins }),
    fetchList: relayTunnelListFetcher({ corePins: () => book.corePins }),
  });
  return Object.assign(failover, {
    /** Remembers the endpoint that worked, for the next start. */
    remember(endpoint: EndpointInUse) {
      lastGood = endpoint.id;
      save();
    },
  });
}

/** The line the CLI shows when the connection is up through an endpoint. */
export function describeEndpoint(endpoint: EndpointInUse): string {
  const where = `${endpoint.kind} ${endpoint.id} (${new URL(endpoint.url).host})`;
  return endpoint.switched ? `(switched to ${where})` : `(connected through ${where})`;
}
