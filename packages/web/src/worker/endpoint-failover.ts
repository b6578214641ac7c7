/**
 * Failover for the web app, as the CLI has it (packages/cli/src/endpoint-setup.ts, docs/censorship.md):
 * when the page carries the operator's pinned list-signing keys, the device's connection races the
 * endpoints of the signed list (last good first, staggered starts, recent failures last) instead of
 * only this origin, and keeps the verified list and the endpoint that worked in IndexedDB.
 *
 * A browser reaches two kinds of endpoint: a core's gateway and a relay's secret path, both by a
 * plain WebSocket. The blind tunnel (TLS to a pinned core key inside the relay's WebSocket) needs a
 * TLS stack a page does not have, so through a relay the browser runs in the relay's clear mode: the
 * relay sees the gateway's frames (the session token and MLS ciphertext, never a message's text).
 * The list is fetched from this origin (the app's HTTP API is there too), with the session token so
 * that the account's own relays come back; the book accepts only what verifies against the pins.
 */
import { ENDPOINTS_PATH } from '@courier/protocol';
import {
  directSocketUrl,
  EndpointBook,
  EndpointFailover,
  type EndpointListReply,
  type ListFetcher,
  type WebSocketLike,
} from '@courier/sdk';
import type { AppStore } from './app-store.ts';

/** Decodes the pinned keys the page found in its meta element; none (or any malformed): no failover. */
export function pinnedKeys(texts: readonly string[]): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (const text of texts) {
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
    } catch {
      return [];
    }
    if (bytes.length !== 32) return [];
    keys.push(bytes);
  }
  return keys;
}

export interface BrowserFailoverOptions {
  origin: string;
  token: string;
  keys: readonly Uint8Array[];
  app: AppStore;
  /** Opens a WebSocket (the device keeps each one to close it when the browser goes offline). */
  openSocket: (url: string) => WebSocketLike;
  /** How long the list may take to come from this origin before the device starts with what it kept. */
  listTimeoutMs?: number;
}

export type BrowserFailover = EndpointFailover & { remember(endpointId: string): void };

/**
 * The failover of this device's connection, or undefined when no key is pinned or no verified list
 * is held or can be had (the connection then goes to this origin, as without a list).
 */
export async function browserFailover(options: BrowserFailoverOptions): Promise<BrowserFailover | undefined> {
  if (options.keys.length === 0) return undefined;
  const { app } = options;
  let kept = app.endpoints();
  const save = () => void app.saveEndpoints(kept).catch(() => {});
  const book = new EndpointBook({
    trustedKeys: options.keys,
    saved: kept,
    onChange: (state) => {
      kept = { ...state, ...(kept.lastGood ? { lastGood: kept.lastGood } : {}) };
      save();
    },
  });
  const fetchList: ListFetcher = async (_endpoint, token, timeoutMs) => {
    const reply = await fetch(new URL(ENDPOINTS_PATH, options.origin), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!reply.ok) throw new Error(`The endpoint list answered ${reply.status}.`);
    return (await reply.json()) as EndpointListReply;
  };
  try {
    const body = await fetchList(
      { id: 'origin', kind: 'core', url: options.origin, weight: 1 },
      options.token,
      options.listTimeoutMs ?? 3_000,
    );
    book.offerList(body.list);
    if (Array.isArray(body.relays) && body.relays.length > 0) book.setRelays(body.relays);
  } catch {
    // Offline, blocked, or no list configured: the list kept from last time (if any) is used.
  }
  if (book.endpoints().length === 0) return undefined;
  const failover = new EndpointFailover({
    book,
    ...(kept.lastGood ? { lastGood: kept.lastGood } : {}),
    transport: (endpoint) => options.openSocket(directSocketUrl(endpoint)),
    fetchList,
  });
  return Object.assign(failover, {
    /** Keeps the endpoint that worked, to be tried first next time. */
    remember(endpointId: string) {
      if (kept.lastGood === endpointId) return;
      kept = { ...kept, lastGood: endpointId };
      save();
    },
  });
}
