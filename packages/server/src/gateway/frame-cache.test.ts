import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CachedFrame, FrameCache } from './frame-cache.ts';

const frame = (seq: number, size: number): CachedFrame => ({
  seq,
  senderDeviceId: 'd',
  bytes: new Uint8Array(size),
});

/** What the cache holds, read through its public surface only. */
function held(cache: FrameCache): CachedFrame[] {
  const frames: CachedFrame[] = [];
  for (let seq = cache.first; seq <= cache.last; seq++) {
    const f = cache.get(seq);
    if (f) frames.push(f);
  }
  return frames;
}

describe('FrameCache', () => {
  it('is bounded in bytes, not only in entries: 512 entries of 2 MiB do not stay in memory', () => {
    const cache = new FrameCache(0, { entries: 512, bytes: 8 * 1024 * 1024 });
    for (let seq = 1; seq <= 600; seq++) cache.push(frame(seq, 2 * 1024 * 1024));
    const bytes = held(cache).reduce((sum, f) => sum + f.bytes.byteLength, 0);
    expect(bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    // ...and it still holds the newest frames, contiguously.
    expect(cache.last).toBe(600);
    expect(held(cache).map((f) => f.seq)).toEqual([597, 598, 599, 600]);
  });

  it('keeps the longest run of newest frames that fits both limits (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: -2, max: 2 }), { maxLength: 10 }),
        (start, entries, bytes, sizes, offsets) => {
          const cache = new FrameCache(start, { entries, bytes });
          const pushed: CachedFrame[] = [];
          sizes.forEach((size, i) => {
            const f = frame(start + i + 1, size);
            expect(cache.push(f)).toBe(true);
            pushed.push(f);
            // A frame that is not the next one is refused and changes nothing.
            for (const offset of offsets)
              if (offset !== 1) expect(cache.push(frame(cache.last + offset, 1))).toBe(false);
          });
          expect(cache.last).toBe(start + sizes.length);
          const kept = held(cache);
          const total = kept.reduce((sum, f) => sum + f.bytes.byteLength, 0);
          expect(kept.length).toBeLessThanOrEqual(entries);
          expect(total).toBeLessThanOrEqual(bytes);
          expect(cache.bytes).toBe(total);
          // The newest frames, contiguous, the same objects that were pushed.
          expect(kept).toEqual(pushed.slice(pushed.length - kept.length));
          for (const [i, f] of kept.entries()) expect(f).toBe(pushed[pushed.length - kept.length + i]);
          // Maximal: the next older frame would break a limit.
          const older = pushed[pushed.length - kept.length - 1];
          if (older) expect(kept.length + 1 > entries || total + older.bytes.byteLength > bytes).toBe(true);
          expect(cache.get(cache.first - 1)).toBeUndefined();
          expect(cache.get(cache.last + 1)).toBeUndefined();
        },
      ),
    );
  });

  it('drops its oldest frames on demand and keeps counting its bytes exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 500 }), fc.constant('drop' as const)), {
          maxLength: 200,
        }),
        (ops) => {
          const cache = new FrameCache(0, { entries: 50, bytes: 10_000 });
          for (const op of ops) {
            const before = cache.bytes;
            const oldest = cache.get(cache.first);
            if (op === 'drop') expect(cache.dropOldest()).toBe(before - cache.bytes);
            else cache.push(frame(cache.last + 1, op));
            if (op === 'drop') expect(before - cache.bytes).toBe(oldest?.bytes.byteLength ?? 0);
            const kept = held(cache);
            expect(cache.bytes).toBe(kept.reduce((sum, f) => sum + f.bytes.byteLength, 0));
            expect(kept.map((f) => f.seq)).toEqual(
              Array.from({ length: kept.length }, (_, i) => cache.last - kept.length + 1 + i),
            );
          }
        },
      ),
    );
  });
});
