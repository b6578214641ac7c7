import type { Logger } from 'pino';
import type { PolicyVersion } from './privacy/policy-versions.ts';
import type { SmsSender } from './sms/ports.ts';

/** What the server takes from outside: time, randomness, a logger. Tests pass their own. */
export interface Clock {
  now(): number;
}

export interface ServerDeps {
  clock: Clock;
  random: (bytes: number) => Uint8Array;
  logger: Logger;
  /** Overrides the configured SMS adapter (tests capture codes through the same interface). */
  sms?: SmsSender;
  /** Overrides the privacy-policy versions shipped with Courier (tests publish a newer one). */
  policies?: readonly PolicyVersion[];
  /** Where keys and credentials named by the config (`…Env`) are read (main.ts: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export const systemClock: Clock = { now: () => Date.now() };
