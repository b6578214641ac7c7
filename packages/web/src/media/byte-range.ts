/**
 * Parses an HTTP Range header of the one form media players send: `bytes=a-b` or `bytes=a-`.
 * Returns [start, end) with `end` one past the last byte (absent: to the end of the file), or
 * undefined for no header, a suffix range, several ranges or anything malformed (then the whole
 * file is answered, as HTTP allows).
 */
export function parseRange(header: string | null | undefined): { start: number; end?: number } | undefined {
  const match = header ? /^bytes=(\d{1,15})-(\d{0,15})$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const start = Number(match[1]);
  if (!match[2]) return { start };
  const last = Number(match[2]);
  return last < start ? undefined : { start, end: last + 1 };
}
