import { type GroupStateParts, joinGroupState, splitGroupState } from '@courier/mls';
import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePendingCommit, readPendingCommit, readPendingSubmission } from './pending-commit.ts';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
/** A saved state of version 4: its secret part starts with the version byte. */
const parts = fc
  .record({ secrets: bytes(0, 64), pages: fc.array(bytes(1, 48), { maxLength: 12 }) })
  .map(({ secrets, pages }) => ({ secrets: Uint8Array.of(4, ...secrets), pages }));

/** A commit's result over `base`: some pages replaced, the tree grown or shrunk, a new secret part. */
const commitOver = (base: GroupStateParts) =>
  fc
    .record({
      secrets: bytes(0, 64),
      count: fc.nat({ max: base.pages.length + 4 }),
      replaced: fc.array(fc.tuple(fc.nat({ max: 20 }), bytes(1, 48)), { maxLength: 4 }),
    })
    .map(({ secrets, count, replaced }) => {
      const pages: Uint8Array[] = [];
      for (let i = 0; i < count; i++) pages.push(base.pages[i] ?? Uint8Array.of(9, i));
      for (const [i, page] of replaced) if (i < count) pages[i] = page;
      return { secrets: Uint8Array.of(4, ...secrets), pages };
    });

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const shown = (p: GroupStateParts) => ({ secrets: hex(p.secrets), pages: p.pages.map(hex) });
const malformed = (e: unknown) => e instanceof CourierError && e.code === 'MLS_MALFORMED';

describe('a pending commit saved as what it changes', () => {
  it('reads back over the state it was saved against as the whole next state', () => {
    fc.assert(
      fc.property(
        parts.chain((base) => fc.tuple(fc.constant(base), commitOver(base))),
        ([base, next]) => {
          const saved = encodePendingCommit(base, next);
          expect(shown(readPendingCommit(saved, base))).toEqual(shown(next));
          // Only the changed pages are in it: never more than the whole state (plus a header and indexes).
          expect(saved.length).toBeLessThanOrEqual(joinGroupState(next).length + 45 + 4 * next.pages.length);
        },
      ),
    );
  });

  it('keeps a few changed pages of a large tree, not the tree', () => {
    const base = {
      secrets: Uint8Array.of(4, 1, 2, 3),
      pages: Array.from({ length: 200 }, (_, i) => new Uint8Array(4000).fill(i)),
    };
    const next = {
      secrets: Uint8Array.of(4, 7),
      pages: base.pages.map((p, i) => (i % 50 === 0 ? p.map((b) => b ^ 1) : p)),
    };
    const saved = encodePendingCommit(base, next);
    expect(saved.length).toBeLessThan(5 * 4000);
    expect(shown(readPendingCommit(saved, base))).toEqual(shown(next));
  });

  it('reads a pending commit saved whole before as it was', () => {
    fc.assert(
      fc.property(parts, parts, (next, base) => {
        const whole = joinGroupState(next);
        expect(shown(readPendingCommit(whole, base))).toEqual(shown(splitGroupState(whole)));
      }),
    );
  });

  it('refuses to read over tree pages other than those it was saved against (MLS_MALFORMED)', () => {
    fc.assert(
      fc.property(
        parts
          .filter((b) => b.pages.length > 0)
          .chain((base) => fc.tuple(fc.constant(base), commitOver(base), fc.nat(), fc.nat({ max: 255 }))),
        ([base, next, which, xor]) => {
          const saved = encodePendingCommit(base, next);
          // A page the commit kept, changed in the stored state since.
          const kept = next.pages.flatMap((page, i) => (base.pages[i] === page ? [i] : []));
          fc.pre(kept.length > 0);
          const i = kept[which % kept.length]!;
          const moved = base.pages.map((p, j) => (j === i ? Uint8Array.of(...p, xor) : p));
          let error: unknown;
          try {
            readPendingCommit(saved, { ...base, pages: moved });
          } catch (e) {
            error = e;
          }
          expect(malformed(error)).toBe(true);
        },
      ),
    );
  });

  it('answers damaged bytes with MLS_MALFORMED, never another error', () => {
    fc.assert(
      fc.property(
        parts.chain((base) => fc.tuple(fc.constant(base), commitOver(base), fc.nat(), fc.nat({ max: 255 }))),
        ([base, next, at, value]) => {
          const saved = encodePendingCommit(base, next);
          for (const damaged of [
            saved.subarray(0, 1 + (at % (saved.length - 1))),
            Uint8Array.from(saved, (b, i) => (i === 1 + (at % (saved.length - 1)) ? b ^ (value | 1) : b)),
          ]) {
            try {
              readPendingCommit(damaged, base);
            } catch (e) {
              expect(malformed(e), String(e)).toBe(true);
            }
          }
        },
      ),
    );
  });

  it('keeps the commit and Welcome it was made with, read back with the same state', () => {
    const submission = fc.record(
      { commit: bytes(1, 64), welcome: bytes(1, 64) },
      { requiredKeys: ['commit'] },
    );
    fc.assert(
      fc.property(
        parts.chain((base) => fc.tuple(fc.constant(base), commitOver(base), submission)),
        ([base, next, sent]) => {
          const saved = encodePendingCommit(base, next, sent);
          expect(shown(readPendingCommit(saved, base))).toEqual(shown(next));
          const read = readPendingSubmission(saved)!;
          expect(hex(read.commit)).toBe(hex(sent.commit));
          expect(read.welcome && hex(read.welcome)).toBe(sent.welcome && hex(sent.welcome));
          // Saved without one (or whole, before this format): none to submit again.
          expect(readPendingSubmission(encodePendingCommit(base, next))).toBeUndefined();
          expect(readPendingSubmission(joinGroupState(next))).toBeUndefined();
        },
      ),
    );
  });

  it('answers a damaged submission with MLS_MALFORMED, never another error', () => {
    fc.assert(
      fc.property(
        parts.chain((base) =>
          fc.tuple(fc.constant(base), commitOver(base), bytes(1, 32), fc.nat(), fc.nat({ max: 255 })),
        ),
        ([base, next, commit, at, value]) => {
          const saved = encodePendingCommit(base, next, { commit, welcome: commit });
          for (const damaged of [
            saved.subarray(0, 1 + (at % (saved.length - 1))),
            Uint8Array.from(saved, (b, i) => (i === 1 + (at % (saved.length - 1)) ? b ^ (value | 1) : b)),
          ]) {
            for (const read of [
              () => readPendingSubmission(damaged),
              () => readPendingCommit(damaged, base),
            ]) {
              try {
                read();
              } catch (e) {
                expect(malformed(e), String(e)).toBe(true);
              }
            }
          }
        },
      ),
    );
  });
});
