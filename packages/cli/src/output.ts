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

/** Expected failures print their code and sentence, never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof CourierError) return `error ${error.code}: ${error.message}`;
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}
