import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeOnce } from './decode-once.ts';
import { decodeEntry, encodeSend, entryOfSend } from './floor-protocol.ts';

describe('DecodeOnce', () => {
  it('gives what decoding each frame gives, decoding only when the bytes change', () => {
    const entry = fc
      .record({
        group: fc.string({ maxLength: 20 }),
        id: fc.string({ maxLength: 20 }),
        payload: fc.uint8Array(),
      })
      .map(({ group, id, payload }) => Buffer.from(entryOfSend(encodeSend(1, group, id, payload))));
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, fc.integer({ min: 1, max: 4 })), { maxLength: 30 }), (runs) => {
        const once = new DecodeOnce(decodeEntry);
        let changes = 0;
        let previous: Buffer | undefined;
        for (const [bytes, times] of runs) {
          if (!previous?.equals(bytes)) changes += 1;
          previous = bytes;
          // Each connection gets its own copy of the same bytes, as from its own socket.
          for (let i = 0; i < times; i++) expect(once.get(Buffer.from(bytes))).toEqual(decodeEntry(bytes));
        }
        expect(once.decoded).toBe(changes);
        expect(once.received).toBe(runs.reduce((n, [, times]) => n + times, 0));
      }),
    );
  });
});
