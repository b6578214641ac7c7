import { createServer, type Socket } from 'node:net';
import type { Endpoint } from '@courier/protocol';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocketLike } from '../websocket-like.ts';
import type { EndpointBook } from './endpoint-book.ts';
import { EndpointFailover } from './endpoint-failover.ts';
import { openSocketAttempt } from './socket-attempt.ts';

/**
 * A socket that behaves as Node's `ws` does where it matters: `close()` on a socket still connecting
 * emits `error` and then `close` (later, not inside the call), and an `error` with no listener is
 * what would end the process (recorded here as `unhandled`).
 */
class FakeSocket implements WebSocketLike {
  binaryType = 'nodebuffer';
  readyState = 0;
  closeCalled = false;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(
    readonly name: string,
    private readonly later: (what: string, event: () => void) => void,
    private readonly unhandled: string[],
  ) {}

  send(): void {}

  close(): void {
    this.closeCalled = true;
    if (this.readyState >= 2) return;
    const wasConnecting = this.readyState === 0;
    this.readyState = 2;
    if (wasConnecting) this.later(`${this.name} aborted`, () => this.error('closed before open'));
    this.later(`${this.name} closed`, () => this.closed(1006));
  }

  /** The network opens it (ignored once closing). */
  open(): void {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.onopen?.({});
  }

  error(reason: string): void {
    if (this.readyState === 3) return;
    if (this.onerror) this.onerror({ reason });
    else this.unhandled.push(`${this.name}: ${reason}`);
  }

  closed(code: number): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

type Fate = 'opens' | 'refused' | 'hangs' | 'opens-then-dies';
interface Plan {
  /** How the transport answers: with a socket, or by failing before any socket exists. */
  transport: 'socket' | 'throws';
  fate: Fate;
}

const endpointsFor = (n: number): Endpoint[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `e${i}`,
    kind: 'relay',
    url: `https://e${i}.test/x`,
    weight: 1,
  }));

const bookOf = (endpoints: Endpoint[]) => ({ endpoints: () => endpoints }) as unknown as EndpointBook;

/**
 * Runs one failover round where every network event (a transport answering, a socket opening,
 * failing, or aborting after a close) happens in the order `choices` picks among the pending ones.
 */
async function runRound(plans: Plan[], choices: number[], stopEarly: boolean) {
  const pending: { what: string; run: () => void }[] = [];
  const later = (what: string, run: () => void) => pending.push({ what, run });
  const unhandled: string[] = [];
  const sockets: FakeSocket[] = [];
  const endpoints = endpointsFor(plans.length);
  const failover = new EndpointFailover({
    book: bookOf(endpoints),
    random: () => 0,
    now: () => 0,
    timings: { staggerMs: 0, attemptTimeoutMs: 60_000, failCooldownMs: 1 },
    transport: (endpoint) =>
      new Promise<WebSocketLike>((resolve, reject) => {
        const plan = plans[Number(endpoint.id.slice(1))]!;
        later(`transport ${endpoint.id}`, () => {
          if (plan.transport === 'throws') return reject(new Error('refused before a socket'));
          const socket = new FakeSocket(endpoint.id, later, unhandled);
          sockets.push(socket);
          resolve(socket);
          if (plan.fate === 'opens' || plan.fate === 'opens-then-dies')
            later(`${endpoint.id} opens`, () => {
              socket.open();
              if (plan.fate === 'opens-then-dies')
                later(`${endpoint.id} dies`, () => {
                  socket.error('reset');
                  socket.closed(1006);
                });
            });
          if (plan.fate === 'refused')
            later(`${endpoint.id} refused`, () => {
              socket.error('ECONNREFUSED');
              socket.closed(1006);
            });
        });
      }),
  });
  let outcome: { kind: 'won'; socket: WebSocketLike } | { kind: 'failed' } | undefined;
  failover.connect().then(
    ({ socket }) => {
      outcome = { kind: 'won', socket };
      // As the connection does: a stopped client closes the socket it got (attach when stopped).
      if (stopEarly) {
        socket.onerror = () => {};
        socket.close(1000, 'bye');
      } else socket.onerror = () => {};
    },
    () => {
      outcome = { kind: 'failed' };
    },
  );
  const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));
  let step = 0;
  for (let idle = 0; idle < 3; ) {
    await macrotask();
    if (pending.length === 0) {
      idle += 1;
      continue;
    }
    idle = 0;
    const pick = (choices[step++ % Math.max(choices.length, 1)] ?? 0) % pending.length;
    pending.splice(pick, 1)[0]!.run();
  }
  return { outcome, sockets, unhandled };
}

describe('endpoint failover round (state machine over random event orders)', () => {
  it('never leaves a socket error without a listener, closes every socket but the winner, and wins only with an open socket (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            transport: fc.constantFrom('socket' as const, 'socket' as const, 'throws' as const),
            fate: fc.constantFrom(
              'opens' as const,
              'refused' as const,
              'hangs' as const,
              'opens-then-dies' as const,
            ),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        async (plans, choices, stopEarly) => {
          const { outcome, sockets, unhandled } = await runRound(plans, choices, stopEarly);
          expect(unhandled).toEqual([]);
          const canWin = plans.some(
            (p) => p.transport === 'socket' && (p.fate === 'opens' || p.fate === 'opens-then-dies'),
          );
          if (!canWin) {
            // Hanging attempts keep the round open (their timeout is a minute); it never wins.
            expect(outcome?.kind).not.toBe('won');
          }
          if (outcome?.kind === 'won') {
            const winner = outcome.socket as FakeSocket;
            expect(sockets).toContain(winner);
            for (const socket of sockets)
              if (socket !== winner) expect(socket.closeCalled || socket.readyState === 3).toBe(true);
            if (!stopEarly) expect(winner.closeCalled).toBe(false);
          }
          if (outcome?.kind === 'failed')
            for (const socket of sockets) expect(socket.closeCalled || socket.readyState === 3).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a cancelled attempt closes a socket its transport hands over later, with an error listener on it', async () => {
    const unhandled: string[] = [];
    const events: (() => void)[] = [];
    let hand: ((s: WebSocketLike) => void) | undefined;
    const attempt = openSocketAttempt(
      () =>
        new Promise<WebSocketLike>((resolve) => {
          hand = resolve;
        }),
      endpointsFor(1)[0]!,
    );
    attempt.cancel();
    const late = new FakeSocket('late', (_, run) => events.push(run), unhandled);
    hand!(late);
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (const run of events.splice(0)) run();
    expect(late.closeCalled).toBe(true);
    expect(unhandled).toEqual([]);
    expect(attempt.state).toBe('cancelled');
  });
});

describe('endpoint failover with real ws sockets', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('survives a racer whose socket is handed over (still connecting) after another endpoint won', async () => {
    // A TCP server that accepts and never answers: a ws socket to it stays CONNECTING.
    const held = new Set<Socket>();
    const silent = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of held) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as { port: number }).port;
    const { WebSocket, WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const client of server.clients) client.terminate();
          server.close(() => resolve());
        }),
    );
    const goodPort = (server.address() as { port: number }).port;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    cleanups.push(async () => {
      process.off('uncaughtException', onUncaught);
    });
    let handLate: (() => void) | undefined;
    const lateHanded = new Promise<void>((resolve) => {
      handLate = resolve;
    });
    const lateSockets: InstanceType<typeof WebSocket>[] = [];
    const failover = new EndpointFailover({
      book: bookOf(endpointsFor(2)),
      random: () => 0,
      timings: { staggerMs: 0, attemptTimeoutMs: 10_000, failCooldownMs: 1 },
      transport: async (endpoint) => {
        if (endpoint.id === 'e1')
          return new WebSocket(`ws://127.0.0.1:${goodPort}/`) as unknown as WebSocketLike;
        // e0: the transport (a tunnel, say) answers only after the race is over.
        await lateHanded;
        const socket = new WebSocket(`ws://127.0.0.1:${port}/`);
        lateSockets.push(socket);
        return socket as unknown as WebSocketLike;
      },
    });
    const { socket, endpoint } = await failover.connect();
    socket.onerror = () => {};
    cleanups.push(async () => socket.close());
    expect(endpoint.id).toBe('e1');
    handLate!();
    // Let the late socket be handed over, closed and its abort reported.
    for (let i = 0; i < 20 && !(lateSockets[0]?.readyState === WebSocket.CLOSED); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(lateSockets[0]?.readyState).toBe(WebSocket.CLOSED);
    expect(uncaught).toEqual([]);
  });
});
