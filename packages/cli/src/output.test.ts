import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeError, waitText } from './output.ts';

describe('errors as printed by courier', () => {
  it('says when to try again after a rate limit', () => {
    const limited = new CourierError('AUTH_RATE_LIMITED', { details: { retryAfterMs: 900_000 } });
    expect(describeError(limited)).toBe(
      'error AUTH_RATE_LIMITED: Too many requests; try again later. Try again in 15 min.',
    );
    expect(describeError(new CourierError('AUTH_RATE_LIMITED'))).toBe(
      'error AUTH_RATE_LIMITED: Too many requests; try again later.',
    );
    expect(describeError(new CourierError('AUTH_RATE_LIMITED', { details: { retryAfterMs: 'soon' } }))).toBe(
      'error AUTH_RATE_LIMITED: Too many requests; try again later.',
    );
  });

  it('never says to wait less than the server asked (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 * 24 * 3600 * 1000 }), (ms) => {
        const [amount, unit] = waitText(ms).split(' ') as [string, 's' | 'min' | 'h'];
        const seconds = Number(amount) * { s: 1, min: 60, h: 3600 }[unit];
        expect(seconds * 1000).toBeGreaterThanOrEqual(ms);
        expect(seconds).toBeGreaterThanOrEqual(1);
      }),
    );
  });
});
