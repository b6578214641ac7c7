import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ErrorEnvelope, openCheckpoint } from '@courier/protocol';
import type { Config } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { StorageConfig } from '../storage/open-storage.ts';
import type { Storage } from '../storage/ports.ts';
import { LogWitness } from '../transparency/log-witness.ts';
import { loadServerKey } from '../transparency/signing-key.ts';
import { type ReportFormat, renderReport } from '../transparency/report-render.ts';
import { LogIntegrityError, TransparencyLog } from '../transparency/transparency-log.ts';

export interface TransparencyCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The validated config (from --config, COURIER_CONFIG or the environment). */
  config: (configFile: string | undefined) => Config;
  openStorage: (config: StorageConfig) => Promise<Storage>;
  clock: Clock;
  /** Where a key named by `transparency.keyEnv` is read from. */
  env?: Readonly<Record<string, string | undefined>>;
}

export const USAGE = [
  'usage: courier-server transparency report --period 2026-H1 [--format json|csv|html] [--config file.json]',
  '       courier-server transparency checkpoint [--config file.json]   print the newest signed checkpoint',
  '       courier-server transparency verify [--config file.json]       check the stored log against it',
].join('\n');
const PERIOD = /^\d{4}-(?:H[12]|Q[1-4])$/;
const FORMATS: readonly ReportFormat[] = ['json', 'csv', 'html'];

/**
 * `courier-server transparency report|checkpoint|verify`: the operator's view of the legal-desk log,
 * read from the configured database with the operator's key. Every command first checks the stored
 * log against its newest signed checkpoint and refuses (exit 1) a log that was altered, rolled back
 * or forked: a report is never printed from a log the server itself would not start on. Returns the
 * exit code: 0 done, 1 refused, 2 usage.
 */
export async function runTransparencyCommand(argv: string[], io: TransparencyCliIo): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = args;
  const [sub, ...extra] = positionals;
  const format = (values.format ?? 'json') as ReportFormat;
  const usageError = (message: string) => {
    const envelope: ErrorEnvelope = { error: { code: 'REQ_INVALID', message } };
    io.err(JSON.stringify(envelope, null, 2));
    io.err(USAGE);
    return 2;
  };
  if (!(sub === 'report' || sub === 'checkpoint' || sub === 'verify') || extra.length > 0) {
    io.err(USAGE);
    return 2;
  }
  if (sub === 'report') {
    if (values.period === undefined || !PERIOD.test(values.period))
      return usageError('--period is a half year like 2026-H1 (or a quarter like 2026-Q3).');
    if (!FORMATS.includes(format)) return usageError('--format is json, csv or html.');
  }

  let config: Config;
  try {
    config = io.config(values.config);
  } catch (error) {
    io.err((error as Error).message);
    return 2;
  }
  // Opening a SQLite path that does not exist would create an empty log; a missing key, a new one.
  if (
    config.storage.kind === 'sqlite' &&
    config.storage.path !== ':memory:' &&
    !existsSync(config.storage.path)
  ) {
    io.err(`No database at ${config.storage.path}: name the server's config with --config.`);
    return 2;
  }
  if (config.transparency.keyEnv === undefined && !existsSync(config.transparency.keyFile)) {
    io.err(`No signing key at ${config.transparency.keyFile}: name the server's config with --config.`);
    return 2;
  }
  let privateKey: Uint8Array;
  try {
    privateKey = loadServerKey(
      { file: config.transparency.keyFile, env: config.transparency.keyEnv },
      io.env ?? {},
    );
  } catch (error) {
    io.err((error as Error).message);
    return 2;
  }
  const storage = await io.openStorage(config.storage);
  try {
    const log = new TransparencyLog(
      storage,
      {
        origin: config.transparency.origin,
        keyName: config.transparency.keyName,
        privateKey,
      },
      io.clock,
      LogWitness.forConfig(config),
    );
    try {
      await log.verifyIntegrity();
    } catch (error) {
      if (!(error instanceof LogIntegrityError)) throw error;
      io.err(`REFUSED: ${error.message}`);
      return 1;
    }
    if (sub === 'report') {
      io.out(await renderReport(log, values.period!, format));
    } else if (sub === 'checkpoint') {
      io.out((await log.latest()).trimEnd());
    } else {
      const checkpoint = openCheckpoint(await log.latest(), log.verifierKey, log.origin);
      io.out(
        `The log "${checkpoint.origin}" holds ${checkpoint.size} leaves that match its newest signed checkpoint.`,
      );
    }
    return 0;
  } finally {
    await storage.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      period: { type: 'string' },
      format: { type: 'string' },
      config: { type: 'string' },
    },
  });
}
