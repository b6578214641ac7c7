import { CourierError } from '@courier/protocol';
import { safeJson } from './terminal-text.ts';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const consoleIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Prints data as JSON (with --json) or as the given human lines. */
export function show(io: Io, json: boolean, data: unknown, human: () => string[]): void {
  if (json) io.out(safeJson(data, 2));
  else for (const line of human()) io.out(line);
}

/** "30 s", "15 min", "2 h": how long to wait, rounded up to what a person would say. */
export function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.ceil(minutes / 60)} h`;
}

/**
 * Expected failures print their code and sentence, never a stack trace; a rate limit says when to
 * try again (the server's `retryAfterMs`).
 */
export function describeError(error: unknown): string {
  if (error instanceof CourierError) {
    const retryAfterMs = error.details?.retryAfterMs;
    const when =
      typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0
        ? ` Try again in ${waitText(retryAfterMs)}.`
        : '';
    return `error ${error.code}: ${error.message}${when}`;
  }
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}
