import { readFileSync } from 'node:fs';
import { CourierError } from '@courier/protocol';
import pino, { type Logger } from 'pino';
import { type ConfigInput, parseConfig } from '../config.ts';
import type { SmsSender } from '../sms/ports.ts';

/**
 * The config of every command: a JSON file named by --config or COURIER_CONFIG, then the environment's
 * overrides (listed in `courier-server --help`).
 */
export function loadConfig(configPath: string | undefined, env: NodeJS.ProcessEnv, dev = false) {
  const file = configPath ?? env.COURIER_CONFIG;
  const input: Record<string, unknown> = file ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const set = (key: keyof ConfigInput, value: unknown) => {
    if (value !== undefined) input[key] = value;
  };
  if (dev || env.COURIER_DEV === '1') set('dev', true);
  set('dataDir', env.COURIER_DATA_DIR || undefined);
  set('host', env.COURIER_HOST);
  set('port', env.COURIER_PORT === undefined ? undefined : Number(env.COURIER_PORT));
  set('logLevel', env.COURIER_LOG_LEVEL);
  if (env.COURIER_DATABASE_URL) set('storage', { kind: 'postgres', url: env.COURIER_DATABASE_URL });
  else if (env.COURIER_SQLITE_PATH) set('storage', { kind: 'sqlite', path: env.COURIER_SQLITE_PATH });
  if (env.COURIER_NATS_URL) set('bus', { kind: 'nats', servers: env.COURIER_NATS_URL.split(',') });
  if (env.COURIER_SMS_OUTBOX) set('sms', { kind: 'log', outboxFile: env.COURIER_SMS_OUTBOX });
  if (env.COURIER_TRANSPARENCY_KEY)
    set('transparency', { ...(input.transparency as object), keyFile: env.COURIER_TRANSPARENCY_KEY });
  if (env.COURIER_CERTIFICATION_KEY)
    set('mls', { ...(input.mls as object), certificationKeyFile: env.COURIER_CERTIFICATION_KEY });
  return parseConfig(input);
}

/**
 * The server's log: one JSON object per line for machines (files, journald, a collector), and a
 * readable coloured line per event when a person watches it at a terminal. `COURIER_LOG_FORMAT=json`
 * or `pretty` overrides the guess.
 */
export async function openLogger(level: string, env: NodeJS.ProcessEnv): Promise<Logger> {
  const format = env.COURIER_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format !== 'pretty') return pino({ level });
  const { default: pretty } = await import('pino-pretty');
  return pino({ level }, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/** The SMS adapter of commands that never send one. */
export const noSms: SmsSender = {
  send: async () => {
    throw new CourierError('AUTH_SMS_FAILED', { message: 'this command sends no SMS' });
  },
};
