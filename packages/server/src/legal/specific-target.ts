import { type LegalTarget, targetValue } from './legal-request.ts';

/** Words that name everyone rather than someone, compared without case, spaces or punctuation. */
const BULK_WORDS = new Set([
  'all',
  'allusers',
  'allaccounts',
  'any',
  'anyone',
  'anybody',
  'everyone',
  'everybody',
  'none',
  'null',
  'unknown',
]);

/** The fewest digits of a whole international number (country code included): less is a prefix. */
const MIN_PHONE_DIGITS = 7;

/**
 * Whether a target names one specific account (P4: no bulk requests). Not specific: a wildcard or
 * pattern (`*`, `%`, `?`), a word for everyone (`all`, `all users`, `everyone`…), a value with no
 * letter or digit, and a phone number that is a prefix or is not a number at all. A username that
 * happens to be one of those words must be named by its user id or phone number instead.
 */
export function isSpecificTarget(target: LegalTarget): boolean {
  const value = targetValue(target).trim();
  if (/[*%?]/.test(value)) return false;
  const word = value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
  if (word === '' || BULK_WORDS.has(word)) return false;
  if ('phone' in target) {
    return /^\+?[\d\s().-]+$/.test(value) && (value.match(/\d/g)?.length ?? 0) >= MIN_PHONE_DIGITS;
  }
  return true;
}
