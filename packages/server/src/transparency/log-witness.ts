import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What the witness remembers: the largest checkpoint this server signed or verified. */
export interface WitnessedCheckpoint {
  origin: string;
  size: number;
  /** base64 of the 32-byte root. */
  root: string;
}

/**
 * The server's own memory of its log, kept outside the database (next to the signing key unless
 * configured): the largest checkpoint it signed or verified. A database restored from an old backup
 * is consistent with itself, so only a record kept elsewhere can show that the log went back.
 */
export class LogWitness {
  constructor(readonly path: string) {}

  /** The witness file for a transparency config: `witnessFile`, or beside the key file. */
  static forConfig(config: { keyFile: string; witnessFile?: string | undefined }): LogWitness {
    return new LogWitness(config.witnessFile ?? join(dirname(config.keyFile), 'transparency-witness.json'));
  }

  read(): WitnessedCheckpoint | undefined {
    if (!existsSync(this.path)) return undefined;
    const value = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<WitnessedCheckpoint>;
    if (
      typeof value?.origin !== 'string' ||
      !Number.isSafeInteger(value.size) ||
      (value.size as number) < 0 ||
      typeof value.root !== 'string'
    ) {
      throw new Error(`${this.path} is not a transparency witness file`);
    }
    return value as WitnessedCheckpoint;
  }

  /** Remembers a checkpoint if it is larger than the one remembered (written atomically). */
  record(checkpoint: WitnessedCheckpoint): void {
    const known = this.read();
    if (known && known.size >= checkpoint.size && known.origin === checkpoint.origin) return;
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
