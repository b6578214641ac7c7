import { existsSync, readFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { writePrivateFile } from '../files/private-files.ts';

/** What the witness remembers of one log: the largest checkpoint this server signed or verified. */
export interface WitnessedCheckpoint {
  origin: string;
  size: number;
  /** base64 of the 32-byte root. */
  root: string;
  /** Where that log's database was (a file path or a PostgreSQL address without credentials). */
  location?: string | undefined;
}

/** The file: one entry per log, keyed by the log's identity (base64 of its first leaf's hash). */
interface WitnessFile {
  logs: Record<string, WitnessedCheckpoint>;
}

/**
 * The server's own memory of its logs, kept outside the database (in the data folder unless
 * configured): for each log it ran on, the largest checkpoint it signed or verified. A database
 * restored from an old backup is consistent with itself, so only a record kept elsewhere can show
 * that the log went back.
 *
 * A log is known by its first leaf (the size-1 root), which a restore keeps and another database
 * does not share: a witness written by an embedded run never stops a node of another database.
 * An empty log is checked against the log last seen at the same location (a database emptied
 * behind the server's back). A file in the first format (one checkpoint) is read as it was meant:
 * for a log of the same origin.
 */
export class LogWitness {
  constructor(
    readonly path: string,
    /** Where the database this server runs on is. */
    readonly location?: string,
  ) {}

  /** The witness of a server config: its witness file, and where its database is. */
  static forConfig(config: {
    transparency: { witnessFile: string };
    storage: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
  }): LogWitness {
    return new LogWitness(config.transparency.witnessFile, databaseLocation(config.storage));
  }

  private readFile(): { logs: Record<string, WitnessedCheckpoint>; legacy?: WitnessedCheckpoint } {
    if (!existsSync(this.path)) return { logs: {} };
    let value: Partial<WitnessFile> & Partial<WitnessedCheckpoint>;
    try {
      value = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      throw new Error(`${this.path} is not a transparency witness file`, { cause: error });
    }
    if (isCheckpoint(value)) return { logs: {}, legacy: value };
    const logs = value?.logs;
    if (typeof logs !== 'object' || logs === null || !Object.values(logs).every(isCheckpoint)) {
      throw new Error(`${this.path} is not a transparency witness file`);
    }
    return { logs };
  }

  /** The checkpoint remembered for the log whose identity is `id`. */
  read(id: string): WitnessedCheckpoint | undefined {
    const { logs, legacy } = this.readFile();
    return logs[id] ?? legacy;
  }

  /** The largest log remembered at this server's database location (for an empty log). */
  atLocation(): WitnessedCheckpoint | undefined {
    if (this.location === undefined) return undefined;
    return Object.values(this.readFile().logs)
      .filter((c) => c.location === this.location)
      .sort((a, b) => b.size - a.size)[0];
  }

  /** Remembers a checkpoint of the log `id` if it is larger than the one remembered (atomically). */
  record(id: string, checkpoint: Omit<WitnessedCheckpoint, 'location'>): void {
    const { logs } = this.readFile();
    const known = logs[id];
    if (known && known.size >= checkpoint.size && known.location === this.location) return;
    logs[id] = { ...checkpoint, ...(this.location === undefined ? {} : { location: this.location }) };
    const temporary = `${this.path}.${process.pid}.tmp`;
    writePrivateFile(temporary, `${JSON.stringify({ logs } satisfies WitnessFile, null, 1)}\n`);
    renameSync(temporary, this.path);
  }
}

function isCheckpoint(value: unknown): value is WitnessedCheckpoint {
  const v = value as Partial<WitnessedCheckpoint> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.origin === 'string' &&
    Number.isSafeInteger(v.size) &&
    (v.size as number) >= 0 &&
    typeof v.root === 'string'
  );
}

/** A database's place without secrets: an absolute file path, or host, port and name of a server. */
export function databaseLocation(
  storage: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string },
): string {
  if (storage.kind === 'sqlite') return storage.path === ':memory:' ? ':memory:' : resolve(storage.path);
  try {
    const url = new URL(storage.url);
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    return 'postgres';
  }
}
