import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ClientConnection, frameOnce } from './client-connection.ts';

/** Only what the in-flight accounting touches: whether reading the socket is paused. */
function socket() {
  const state = { paused: false, pauses: 0 };
  const ws = {
    pause: () => {
      state.paused = true;
      state.pauses += 1;
    },
    resume: () => {
      state.paused = false;
    },
  } as unknown as WebSocket;
  return { ws, state };
}

describe('ClientConnection sends in flight', () => {
  it('stops reading exactly while unanswered sends reach a limit (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 2000 }),
            fc.nat().map((n) => ({ settle: n })),
          ),
          {
            maxLength: 300,
          },
        ),
        (bytes, sends, ops) => {
          const { ws, state } = socket();
          const connection = new ClientConnection(ws, 'u', 'd', 't', 1 << 20, () => {}, { bytes, sends });
          const open: number[] = [];
          for (const op of ops) {
            if (typeof op === 'number') {
              connection.sendStarted(op);
              open.push(op);
            } else if (open.length > 0) {
              const [size] = open.splice(op.settle % open.length, 1);
              connection.sendSettled(size!);
            }
            const held = open.reduce((sum, n) => sum + n, 0);
            expect(state.paused).toBe(held >= bytes || open.length >= sends);
          }
        },
      ),
    );
  });

  it('does not resume reading a closed connection', () => {
    const { ws, state } = socket();
    const connection = new ClientConnection(ws, 'u', 'd', 't', 1 << 20, () => {}, { bytes: 10, sends: 5 });
    connection.sendStarted(10);
    expect(state.paused).toBe(true);
    connection.closed = true;
    connection.sendSettled(10);
    expect(state.paused).toBe(true);
  });
});

describe('frameOnce', () => {
  // ws's Sender is not in its typings; the test reads it to check the framing byte for byte.
  const Sender = createRequire(import.meta.url)('ws').Sender as {
    frame(data: Buffer, options: Record<string, unknown>): Buffer[];
  };

  it('frames like ws does for a server, whatever the length (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 300 }),
          fc.integer({ min: 65_530, max: 65_540 }),
          fc.integer({ min: 70_000, max: 200_000 }),
        ),
        fc.nat(255),
        (length, fill) => {
          const bytes = new Uint8Array(length).fill(fill);
          const expected = Buffer.concat(
            Sender.frame(Buffer.from(bytes), {
              fin: true,
              rsv1: false,
              opcode: 2,
              mask: false,
              readOnly: true,
            }),
          );
          expect(frameOnce(bytes).wire.equals(expected)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is what a ws client receives as one binary message', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const payloads = [
      new Uint8Array(0),
      Uint8Array.of(1, 2, 3),
      new Uint8Array(300).fill(7),
      new Uint8Array(70_000).fill(9),
    ];
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    wss.on('connection', (_ws, request) => {
      for (const p of payloads) request.socket.write(frameOnce(p).wire);
    });
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('message', (data: Buffer, isBinary) => {
        expect(isBinary).toBe(true);
        received.push(data);
        if (received.length === payloads.length) resolve();
      });
    });
    client.terminate();
    await new Promise<void>((resolve) => wss.close(() => server.close(() => resolve())));
    expect(received.map((r) => [...r])).toEqual(payloads.map((p) => [...p]));
  });
});
