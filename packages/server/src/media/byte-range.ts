/** What a Range header asks of a resource of `size` bytes (RFC 9110 §14): one range, or all of it. */
export type RangeRequest =
  | { kind: 'all' }
  | { kind: 'range'; start: number; end: number }
  /** A range this resource cannot satisfy, or one that does not parse: 416. */
  | { kind: 'unsatisfiable' };

const SINGLE = /^bytes=(\d{0,16})-(\d{0,16})$/;

/**
 * Parses a Range header for one byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`); `end` is
 * inclusive and clamped to the resource. Several ranges at once are answered with the whole
 * resource (RFC 9110 lets a server ignore Range); anything malformed is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'all' };
  const value = header.trim();
  if (/^bytes=[^,]*,/.test(value)) return { kind: 'all' };
  const match = SINGLE.exec(value);
  if (!match) return { kind: 'unsatisfiable' };
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'unsatisfiable' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end };
}
