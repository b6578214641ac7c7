import argon2 from 'argon2';
import { afterAll, beforeAll, vi } from 'vitest';
import { openStorage } from '../storage/open-storage.ts';
import type { Storage } from '../storage/ports.ts';
import { DeskService } from './desk-service.ts';
import type { LegalDesk } from './legal-desk.ts';

/** The desk's login limits, as `DeskService` takes them. */
export interface DeskLimits {
  failedLoginsPerUser: number;
  failedLoginsPerIp: number;
  failedLoginWindowMs: number;
}

/**
 * For a describe block of desk property tests: argon2 becomes a plain comparison (the properties are
 * about the rules, not the hash), one in-memory SQLite store serves every run, and each run gets a
 * `DeskService` on a clock of its own, a day after the previous run's.
 */
export function deskPropertySetup(limits: DeskLimits): {
  /** A fresh run: its number (for unique usernames), its clock and a service on both. */
  nextRun(): { run: number; clock: { ms: number; now(): number }; desk: DeskService; storage: Storage };
} {
  let storage: Storage | undefined;
  let run = 0;
  beforeAll(async () => {
    vi.spyOn(argon2, 'hash').mockImplementation(async (plain) => `plain:${String(plain)}`);
    vi.spyOn(argon2, 'verify').mockImplementation(async (hash, plain) => hash === `plain:${String(plain)}`);
    storage = await openStorage({ kind: 'sqlite', path: ':memory:' });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await storage?.close();
  });
  return {
    nextRun() {
      if (!storage) throw new Error('deskPropertySetup: nextRun() before beforeAll');
      run += 1;
      const clock = { ms: Date.UTC(2026, 0, 1) + run * 86_400_000, now: () => clock.ms };
      const desk = new DeskService(storage.desk, storage.legalCases, {} as LegalDesk, clock, limits);
      return { run, clock, desk, storage };
    },
  };
}
