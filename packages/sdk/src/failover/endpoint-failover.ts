import { CourierError, ENDPOINTS_PATH, type Endpoint, GATEWAY_PATH } from '@courier/protocol';
import { defaultSocketFactory, type WebSocketLike } from '../websocket-like.ts';
import { CandidateTracker, orderCandidates } from './candidate-order.ts';
import type { EndpointBook } from './endpoint-book.ts';
import { type EndpointTransport, openSocketAttempt } from './socket-attempt.ts';
import { staggeredRace } from './staggered-race.ts';

export type { EndpointTransport } from './socket-attempt.ts';

export interface FailoverTimings {
  /** Delay before the next endpoint is tried while earlier ones are still connecting (RFC 8305: 250 ms). */
  staggerMs: number;
  /** An attempt that has not opened by then is given up. */
  attemptTimeoutMs: number;
  /** An endpoint that failed within this window is tried only after all others. */
  failCooldownMs: number;
}

export const defaultFailoverTimings: FailoverTimings = {
  staggerMs: 250,
  attemptTimeoutMs: 5_000,
  failCooldownMs: 60_000,
};

/** What `GET /v1/endpoints` answers (verified by the EndpointBook, never trusted as is). */
export interface EndpointListReply {
  list?: unknown;
  relays?: unknown;
}

/** Fetches the list reply through one endpoint (with the session token, when given). */
export type ListFetcher = (
  endpoint: Endpoint,
  token: string | undefined,
  timeoutMs: number,
) => Promise<EndpointListReply>;

/**
 * A plain HTTP(S) fetch of the endpoint's list URL. The token goes to cores only: a relay passes the
 * public list on and must not be shown a session token.
 */
export const fetchListDirect: ListFetcher = async (endpoint, token, timeoutMs) => {
  const reply = await fetch(endpointListUrl(endpoint), {
    headers: token && endpoint.kind === 'core' ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!reply.ok)
    throw new CourierError('SERVER_UNAVAILABLE', { message: `List refresh answered ${reply.status}.` });
  return (await reply.json()) as EndpointListReply;
};

export interface EndpointFailoverOptions {
  book: EndpointBook;
  transport?: EndpointTransport;
  timings?: Partial<FailoverTimings>;
  /** The endpoint that worked last time (from the client's saved state). */
  lastGood?: string;
  now?: () => number;
  random?: () => number;
  /** How a list refresh is fetched; default: a plain fetch (relayTunnelListFetcher goes through the tunnel). */
  fetchList?: ListFetcher;
}

/** The socket URL of an endpoint when connecting directly: a core's gateway, or a relay's secret path. */
export function directSocketUrl(endpoint: Endpoint): string {
  const url = endpoint.kind === 'core' ? new URL(GATEWAY_PATH, endpoint.url) : new URL(endpoint.url);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.toString();
}

/** Where an endpoint serves the signed list. */
export function endpointListUrl(endpoint: Endpoint): string {
  const url = new URL(endpoint.url);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  if (endpoint.kind === 'core') return new URL(ENDPOINTS_PATH, url).toString();
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/endpoints`;
  return url.toString();
}

export const directTransport: EndpointTransport = (endpoint) =>
  defaultSocketFactory(directSocketUrl(endpoint));

/**
 * Picks the way in: races the candidates (last good first, then a weighted shuffle, recent failures
 * last) with staggered starts, and keeps score of what worked and what failed.
 */
export class EndpointFailover {
  readonly tracker: CandidateTracker;
  private readonly timings: FailoverTimings;
  private readonly now: () => number;
  private readonly random: () => number;
  private failuresSinceReady = 0;

  constructor(private readonly options: EndpointFailoverOptions) {
    this.tracker = new CandidateTracker(options.lastGood);
    this.timings = { ...defaultFailoverTimings, ...options.timings };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  get book(): EndpointBook {
    return this.options.book;
  }

  /** One round: resolves with the first socket to open, or rejects (SERVER_UNAVAILABLE) when all failed. */
  async connect(): Promise<{ socket: WebSocketLike; endpoint: Endpoint }> {
    const candidates = orderCandidates(this.options.book.endpoints(), this.tracker, {
      now: this.now(),
      failCooldownMs: this.timings.failCooldownMs,
      random: this.random,
    });
    const transport = this.options.transport ?? directTransport;
    const outcome = await staggeredRace(
      candidates,
      (endpoint) => openSocketAttempt(transport, endpoint),
      this.timings,
    );
    for (const endpoint of outcome.failed) this.tracker.failed(endpoint.id, this.now());
    this.failuresSinceReady += outcome.failed.length;
    if (outcome.kind === 'all_failed')
      throw new CourierError('SERVER_UNAVAILABLE', {
        message: `No endpoint answered (${candidates.length} tried).`,
        cause: outcome.errors[0],
      });
    return { socket: outcome.value, endpoint: outcome.candidate };
  }

  /** The connection through `endpoint` reached ready. Returns whether failures came before it. */
  ready(endpoint: Endpoint): boolean {
    this.tracker.succeeded(endpoint.id);
    const hadFailures = this.failuresSinceReady > 0;
    this.failuresSinceReady = 0;
    return hadFailures;
  }

  /** The connection through `endpoint` died (closed, reset or went silent). */
  lost(endpoint: Endpoint): void {
    this.tracker.failed(endpoint.id, this.now());
    this.failuresSinceReady += 1;
  }

  /**
   * Fetches the signed list (and, with a token, this account's relays) through `endpoint` and offers
   * it to the book; a list that does not verify leaves the held one in place.
   */
  async refresh(endpoint: Endpoint, token?: string): Promise<void> {
    const fetchList = this.options.fetchList ?? fetchListDirect;
    const body = await fetchList(endpoint, token, this.timings.attemptTimeoutMs);
    this.options.book.offerList(body.list);
    if (Array.isArray(body.relays) && body.relays.length > 0) this.options.book.setRelays(body.relays);
  }
}
