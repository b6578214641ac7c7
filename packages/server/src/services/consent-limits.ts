import { CourierError } from '@courier/protocol';
import type { Config } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { RateLimitStore } from '../storage/ports.ts';

/** Every consent rate-limit key starts with this (their windows are longer than the others'). */
export const CONSENT_KEY_PREFIX = 'consent:';

/** The rate-limit keys that name an account (erasure deletes them). */
export const consentKeysOf = (accountId: string): string[] => [
  `${CONSENT_KEY_PREFIX}account:${accountId}`,
  `${CONSENT_KEY_PREFIX}refused:${accountId}`,
];

/**
 * Limits on asking for someone's consent: new direct chats (message requests) and group invitations,
 * per account and per client address (its rate-limit source key: an address, an IPv6 /64, or a
 * relay). An account whose requests were declined or blocked often in the window gets the smaller
 * `slowedRequestsPerAccount`. Kept in the shared rate-limit store, so every node counts together.
 */
export class ConsentLimits {
  constructor(
    private readonly rateLimits: RateLimitStore,
    private readonly config: Config['consent'],
    private readonly clock: Clock,
  ) {}

  /**
   * Takes `count` requests for the account (and the address, when known), or none: on refusal what
   * was taken is given back and CONSENT_RATE_LIMITED is thrown. The error does not say whether the
   * account was slowed down (that would count refusals the refused-of person was never told of).
   */
  async take(accountId: string, source: string | undefined, count: number): Promise<void> {
    if (count <= 0) return;
    const now = this.clock.now();
    const { windowMs } = this.config;
    const refused = await this.rateLimits.current(`consent:refused:${accountId}`, now, windowMs);
    const slowed = refused >= this.config.refusalsBeforeSlowdown;
    const perAccount = slowed ? this.config.slowedRequestsPerAccount : this.config.requestsPerAccount;
    const keys: [string, number][] = [[`consent:account:${accountId}`, perAccount]];
    if (source !== undefined) keys.push([`consent:source:${source}`, this.config.requestsPerAddress]);
    const taken: string[] = [];
    for (let i = 0; i < count; i++) {
      for (const [key, max] of keys) {
        if (await this.rateLimits.take(key, now, windowMs, max)) {
          taken.push(key);
          continue;
        }
        for (const k of taken) await this.rateLimits.giveBack(k, now, windowMs);
        throw new CourierError('CONSENT_RATE_LIMITED', {
          details: {
            retryAfterMs: windowMs,
            limit: key.startsWith('consent:account:') ? 'account' : 'address',
          },
        });
      }
    }
  }

  /** Counts one decline or block of a request this account made. */
  async refused(accountId: string): Promise<void> {
    await this.rateLimits.hit(`consent:refused:${accountId}`, this.clock.now(), this.config.windowMs);
  }
}
