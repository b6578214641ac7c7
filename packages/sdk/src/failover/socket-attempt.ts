import type { Endpoint } from '@courier/protocol';
import type { WebSocketLike } from '../websocket-like.ts';
import type { Attempt } from './staggered-race.ts';

/** Opens a socket to one endpoint; it counts as connected when its `onopen` fires. */
export type EndpointTransport = (endpoint: Endpoint) => WebSocketLike | Promise<WebSocketLike>;

/** Where one attempt stands: waiting for the transport, connecting, and its one way out. */
export type SocketAttemptState = 'starting' | 'connecting' | 'won' | 'failed' | 'cancelled';

/** Swallows a socket's `error` event: its `close` follows and is what the attempt and the connection act on. */
const ignoreError = () => {};

/**
 * One racer of the failover: opens a socket through `transport` and settles with it once it opens.
 *
 * Every socket it ever holds has an `error` listener from the moment it exists until its owner (the
 * connection, for the winner) puts its own: Node's `ws` throws an `error` with no listener, which
 * ends the process, and closing a socket that is still connecting (a racer that lost, or one the
 * transport handed over after the race was over) makes `ws` emit exactly such an error.
 * A cancelled attempt closes its socket whenever it gets one, and never settles afterwards.
 */
export function openSocketAttempt(
  transport: EndpointTransport,
  endpoint: Endpoint,
): Attempt<WebSocketLike> & { readonly state: SocketAttemptState } {
  let state: SocketAttemptState = 'starting';
  let socket: WebSocketLike | undefined;

  const closeQuietly = (s: WebSocketLike) => {
    s.onopen = null;
    s.onclose = null;
    s.onmessage = null;
    s.onerror = ignoreError;
    try {
      s.close(1000, 'lost the race');
    } catch {
      // A socket still connecting may refuse a close code; it is dropped either way.
    }
  };

  const promise = new Promise<WebSocketLike>((resolve, reject) => {
    let made: WebSocketLike | Promise<WebSocketLike>;
    try {
      made = transport(endpoint);
    } catch (error) {
      made = Promise.reject(error);
    }
    Promise.resolve(made).then(
      (s) => {
        s.onerror = ignoreError;
        if (state !== 'starting') {
          closeQuietly(s);
          return;
        }
        state = 'connecting';
        socket = s;
        s.binaryType = 'arraybuffer';
        s.onopen = () => {
          if (state !== 'connecting') return;
          state = 'won';
          s.onopen = null;
          s.onclose = null;
          resolve(s);
        };
        s.onclose = (event) => {
          if (state !== 'connecting') return;
          state = 'failed';
          reject(new Error(`closed ${event.code}`));
        };
      },
      (error: unknown) => {
        if (state !== 'starting') return;
        state = 'failed';
        reject(error);
      },
    );
  });
  // A rejection nobody awaits (the race moved on) must not surface as an unhandled rejection.
  promise.catch(() => {});

  return {
    promise,
    get state() {
      return state;
    },
    cancel: () => {
      if (state === 'failed' || state === 'cancelled') return;
      state = 'cancelled';
      if (socket) closeQuietly(socket);
    },
  };
}
