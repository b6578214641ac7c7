import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { ClientConnection } from './client-connection.ts';

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
