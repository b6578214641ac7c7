import { CourierError, ENDPOINTS_PATH, type SignedDocument } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../deps.ts';
import type { EndpointBundleFile } from './endpoint-bundle-file.ts';
import { relaysForAccount } from './relay-subset.ts';

/** What `GET /v1/endpoints` answers; the client verifies both parts against its pinned keys. */
export interface EndpointsReply {
  /** The signed list: core addresses and the bootstrap pool of relays. */
  list: SignedDocument;
  /** Signed relays of this account's subset for this week (empty without a session token). */
  relays: SignedDocument[];
}

export interface EndpointRouteDeps {
  bundle: EndpointBundleFile | undefined;
  /** Read only when a bundle is configured. */
  subsetSecret: () => Uint8Array;
  relaysPerAccount: number;
  clock: Clock;
  /** Resolves a bearer token to its account; throws AUTH_INVALID_TOKEN. */
  accountOf: (token: string) => Promise<string>;
}

export async function endpointRoutes(app: FastifyInstance, deps: EndpointRouteDeps): Promise<void> {
  let secret: Uint8Array | undefined;
  app.get(ENDPOINTS_PATH, async (request, reply): Promise<EndpointsReply> => {
    if (!deps.bundle) throw new CourierError('ENDPOINTS_NOT_CONFIGURED');
    const { bundle, relays } = deps.bundle.load();
    void reply.header('cache-control', 'no-store');
    const header = request.headers.authorization;
    if (header === undefined) return { list: bundle.list, relays: [] };
    if (!header.startsWith('Bearer ')) throw new CourierError('AUTH_INVALID_TOKEN');
    const accountId = await deps.accountOf(header.slice('Bearer '.length));
    secret ??= deps.subsetSecret();
    const ids = relaysForAccount(relays, accountId, secret, deps.clock.now(), deps.relaysPerAccount);
    return {
      list: bundle.list,
      relays: ids.flatMap((id) => (bundle.tickets[id] ? [bundle.tickets[id]] : [])),
    };
  });
}
