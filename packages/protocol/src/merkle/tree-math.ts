/**
 * Index arithmetic for RFC 6962 trees. Sizes are JavaScript numbers up to 2^53 − 1, beyond the
 * 32 bits of the bitwise operators, so shifts are written as division.
 */

/** A leaf index or tree size: a safe, non-negative integer. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export const isOdd = (n: number): boolean => n % 2 === 1;

/** n >> 1 for any safe integer n ≥ 0. */
export const half = (n: number): number => Math.floor(n / 2);

/** The largest power of two ≤ n (n ≥ 1). */
export function highestPowerOfTwo(n: number): number {
  let power = 1;
  while (power * 2 <= n) power *= 2;
  return power;
}

export const isPowerOfTwo = (n: number): boolean => n >= 1 && highestPowerOfTwo(n) === n;

/** k of RFC 9162 §2.1.1: the largest power of two strictly smaller than n (n ≥ 2). */
export const splitPoint = (n: number): number => highestPowerOfTwo(n - 1);
