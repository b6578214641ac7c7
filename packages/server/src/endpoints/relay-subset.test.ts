import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoWeek, relaysForAccount } from './relay-subset.ts';

const secret = new Uint8Array(32).fill(9);
const relays = Array.from({ length: 12 }, (_, i) => ({ id: `relay-${i}`, weight: 10 }));
const MONDAY = Date.UTC(2026, 10, 23);

describe('per-account relay subset', () => {
  it('numbers ISO weeks like the standard (year boundaries included)', () => {
    expect(isoWeek(Date.UTC(2026, 10, 24))).toBe('2026-W48');
    expect(isoWeek(Date.UTC(2021, 0, 3))).toBe('2020-W53');
    expect(isoWeek(Date.UTC(2024, 11, 30))).toBe('2025-W01');
    expect(isoWeek(Date.UTC(2026, 0, 1))).toBe('2026-W01');
  });

  it('is stable within a week, different across accounts and weeks, and needs the secret', () => {
    const a = relaysForAccount(relays, 'acct-a', secret, MONDAY, 3);
    expect(a).toHaveLength(3);
    expect(relaysForAccount(relays, 'acct-a', secret, MONDAY + 6 * 86_400_000, 3)).toEqual(a);
    const accounts = Array.from({ length: 20 }, (_, i) =>
      relaysForAccount(relays, `acct-${i}`, secret, MONDAY, 3).join(),
    );
    expect(new Set(accounts).size).toBeGreaterThan(10);
    const weeks = Array.from({ length: 8 }, (_, w) =>
      relaysForAccount(relays, 'acct-a', secret, MONDAY + w * 604_800_000, 3).join(),
    );
    expect(new Set(weeks).size).toBeGreaterThan(3);
    expect(relaysForAccount(relays, 'acct-a', new Uint8Array(32).fill(1), MONDAY, 3)).not.toEqual(a);
  });

  it('keeps an account on its relays when another relay is added or removed (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 11 }), (account, removed) => {
        const before = relaysForAccount(relays, account, secret, MONDAY, 3);
        const without = relays.filter((_, i) => i !== removed);
        const after = relaysForAccount(without, account, secret, MONDAY, 3);
        const kept = before.filter((id) => id !== `relay-${removed}`);
        for (const id of kept) expect(after).toContain(id);
      }),
    );
  });

  it('spreads accounts over relays by weight', () => {
    const weighted = [
      { id: 'heavy', weight: 30 },
      { id: 'light-1', weight: 10 },
      { id: 'light-2', weight: 10 },
      { id: 'light-3', weight: 10 },
    ];
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const [first] = relaysForAccount(weighted, `acct-${i}`, secret, MONDAY, 1);
      counts.set(first!, (counts.get(first!) ?? 0) + 1);
    }
    // Expected shares 50 % / 16.7 % each.
    expect(counts.get('heavy')!).toBeGreaterThan(1300);
    expect(counts.get('heavy')!).toBeLessThan(1700);
    for (const id of ['light-1', 'light-2', 'light-3']) expect(counts.get(id)!).toBeGreaterThan(350);
  });
});
