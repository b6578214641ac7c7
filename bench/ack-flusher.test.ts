import { decodeClientFrame } from '@courier/protocol';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACK_DELAY_MS, AckFlusher, BUSY_ACK_DELAY_MS, type LeanClient } from './lean-client.ts';

/** A connection as the flusher sees it: it only asks it to flush. */
const connection = (flushed: number[], at: () => number) =>
  ({ flushAcks: () => flushed.push(at()) }) as unknown as LeanClient;

describe('AckFlusher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes every waiting connection once, spread over 0.5–1.5 × the ack delay by slot', () => {
    vi.useFakeTimers();
    const start = Date.now();
    const acks = new AckFlusher();
    const flushed: number[][] = [];
    for (let i = 0; i < 40; i++) {
      const times: number[] = [];
      flushed.push(times);
      const client = connection(times, () => Date.now() - start);
      const slot = acks.slot();
      // Several entries before the wait ends: still one flush.
      acks.later(client, slot);
      acks.later(client, slot);
    }
    vi.advanceTimersByTime(ACK_DELAY_MS / 2 - 1);
    expect(flushed.flat()).toEqual([]);
    vi.advanceTimersByTime(ACK_DELAY_MS * 1.5);
    expect(flushed.every((times) => times.length === 1)).toBe(true);
    const waits = flushed.map(([at]) => at!);
    expect(Math.min(...waits)).toBe(ACK_DELAY_MS / 2);
    expect(Math.max(...waits)).toBeLessThan(ACK_DELAY_MS * 1.5);
    // Round-robin slots: 20 distinct waits, two connections on each.
    expect(new Set(waits).size).toBe(20);
    // Nothing waits any more: no later flush.
    vi.advanceTimersByTime(ACK_DELAY_MS * 2);
    expect(flushed.every((times) => times.length === 1)).toBe(true);
  });

  it('waits BUSY_ACK_DELAY_MS while entries keep coming, and the short wait again after a quiet spell', () => {
    vi.useFakeTimers();
    const acks = new AckFlusher();
    const times: number[] = [];
    const start = Date.now();
    const client = connection(times, () => Date.now() - start);
    const slot = acks.slot();
    const entry = () => acks.later(client, slot);
    entry();
    vi.advanceTimersByTime(ACK_DELAY_MS / 2);
    expect(times).toEqual([ACK_DELAY_MS / 2]);
    // The next entry soon after: a busy chat, acked after the long wait.
    vi.advanceTimersByTime(100);
    entry();
    vi.advanceTimersByTime(BUSY_ACK_DELAY_MS / 2 - 1);
    expect(times).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(times).toEqual([ACK_DELAY_MS / 2, ACK_DELAY_MS / 2 + 100 + BUSY_ACK_DELAY_MS / 2]);
    // Quiet for longer than the busy wait: the short wait again.
    vi.advanceTimersByTime(BUSY_ACK_DELAY_MS);
    entry();
    vi.advanceTimersByTime(ACK_DELAY_MS / 2);
    expect(times).toHaveLength(3);
  });

  it('gives the ack frame of the group and position, encoding a repeated one once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('g1', 'g2'), fc.integer({ min: 1, max: 5 })), { maxLength: 30 }),
        (positions) => {
          const acks = new AckFlusher();
          const last = new Map<string, { seq: number; bytes: Uint8Array }>();
          for (const [groupId, seq] of positions) {
            const bytes = acks.frame(groupId, seq);
            expect(decodeClientFrame(bytes)).toEqual({ type: 'ack', groupId, seq });
            const before = last.get(groupId);
            if (before?.seq === seq) expect(bytes).toBe(before.bytes);
            last.set(groupId, { seq, bytes });
          }
        },
      ),
    );
  });
});
