/**
 * courier-server: the only place that reads the environment and the command line.
 *   courier-server serve     run the server (HTTP API + WebSocket gateway) until SIGINT/SIGTERM
 *   courier-server migrate   bring the database schema to the newest version and exit
 *   courier-server purge     apply every retention rule now and print what was removed (alias: prune)
 *   courier-server desk add-staff <username> --name N --roles intake,reviewer,approver,auditor,moderator
 *   courier-server desk add-authority <username> --name N --country CC --kind court|prosecutor|police|security_service
 *                            create a desk account; the password is read from COURIER_DESK_PASSWORD;
 *                            prints the TOTP secret to enrol in an authenticator app
 *   courier-server relay --upstream <core URL> --path <secret> --cert <pem> --key <pem>   run a relay
 *   courier-server endpoints keygen|sign|link ...   the offline-signed endpoint list (see docs/censorship.md)
 *   courier-server legal evaluate <request.json> [--policy file] [--at time] [--with-facts [--config file]]
 *                            print the disclosure policy's decision on a request; stores nothing
 *   courier-server transparency report --period 2026-H1 [--format json|csv|html] | checkpoint | verify
 *                            the transparency report, newest checkpoint or integrity of the legal log
 * Config: a JSON file named by --config or COURIER_CONFIG, then these overrides:
 *   COURIER_DEV=1 or --dev (development mode: allows the log SMS adapter), COURIER_DATA_DIR,
 *   COURIER_HOST, COURIER_PORT, COURIER_LOG_LEVEL, COURIER_DATABASE_URL (PostgreSQL),
 *   COURIER_SQLITE_PATH, COURIER_NATS_URL (comma-separated), COURIER_SMS_OUTBOX,
 *   COURIER_TRANSPARENCY_KEY / COURIER_CERTIFICATION_KEY (key file paths: transparency.keyFile and
 *   mls.certificationKeyFile; the config can instead name variables holding the keys, keyEnv and
 *   certificationKeyEnv)
 * A start-up failure prints one line, `error CODE: sentence`, and exits 1 (2 for a usage error).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CourierError } from '@courier/protocol';
import pino from 'pino';
import { buildApp } from './app/build-app.ts';
import { type ConfigInput, parseConfig } from './config.ts';
import { systemClock } from './deps.ts';
import { runEndpointsCommand } from './endpoints/endpoints-cli.ts';
import { runLegalEvaluate } from './legal/legal-cli.ts';
import { runRelayCommand } from './relay/relay-cli.ts';
import { runTransparencyCommand } from './transparency/transparency-cli.ts';
import { openStorage } from './storage/open-storage.ts';
import type { DeskRole } from './storage/ports.ts';
import type { SmsSender } from './sms/ports.ts';

function loadConfig(configPath: string | undefined, env: NodeJS.ProcessEnv, dev = false) {
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

async function main(): Promise<void> {
  if (process.argv[2] === 'legal') {
    // Before any config or app is built: evaluating stores nothing and needs no server.
    process.exitCode = await runLegalEvaluate(process.argv.slice(3), {
      out: (text) => console.log(text),
      err: (text) => console.error(text),
      storageConfig: (file) => loadConfig(file, process.env).storage,
      openStorage,
      now: () => Date.now(),
    });
    return;
  }
  if (process.argv[2] === 'transparency') {
    // Reads the log with the operator's key; builds no app (nothing is served or appended).
    process.exitCode = await runTransparencyCommand(process.argv.slice(3), {
      out: (text) => console.log(text),
      err: (text) => console.error(text),
      config: (file) => loadConfig(file, process.env),
      openStorage,
      clock: systemClock,
      env: process.env,
    });
    return;
  }
  if (process.argv[2] === 'endpoints') {
    // Offline operator work (signing the endpoint list): no config, no storage.
    process.exitCode = await runEndpointsCommand(process.argv.slice(3), {
      out: (text) => console.log(text),
      err: (text) => console.error(text),
    });
    return;
  }
  if (process.argv[2] === 'relay') {
    // A relay holds no config, storage or key of the core: only its own certificate.
    process.exitCode = await runRelayCommand(process.argv.slice(3), pino({ level: 'info' }));
    return;
  }
  if (process.argv[2] === 'desk') {
    process.exitCode = await runDeskCommand(process.argv.slice(3));
    return;
  }
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      dev: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0] ?? 'serve';
  if (values.help || !['serve', 'migrate', 'purge', 'prune'].includes(command)) {
    console.log('usage: courier-server serve|migrate|purge [--config file.json] [--dev]');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const config = loadConfig(values.config, process.env, values.dev);
  const logger = pino({ level: config.logLevel });
  const app = await buildApp(config, {
    clock: systemClock,
    random: (n) => randomBytes(n),
    logger,
    env: process.env,
    // Only a serving node sends codes; the other commands need no SMS adapter.
    ...(command === 'serve' ? {} : { sms: noSms }),
  });
  if (command === 'migrate') {
    logger.info({ storage: config.storage.kind }, 'schema is up to date');
    await app.close();
    return;
  }
  if (command === 'purge' || command === 'prune') {
    console.log(JSON.stringify(await app.retention.run()));
    await app.close();
    return;
  }
  const address = await app.http.listen({ host: config.host, port: config.port });
  logger.info(
    { address, storage: config.storage.kind, bus: config.bus.kind },
    `Courier is listening on ${address}`,
  );
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** The SMS adapter of commands that never send one. */
const noSms: SmsSender = {
  send: async () => {
    throw new CourierError('AUTH_SMS_FAILED', { message: 'this command sends no SMS' });
  },
};

/** Operator commands for desk accounts (staff are verified, and authorities verified out of band, first). */
async function runDeskCommand(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      roles: { type: 'string' },
      country: { type: 'string' },
      kind: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const [sub, username] = positionals;
  const password = process.env.COURIER_DESK_PASSWORD;
  const toggle = sub === 'disable-staff' || sub === 'enable-staff';
  if (
    !username ||
    (!toggle && ((sub !== 'add-staff' && sub !== 'add-authority') || !values.name || !password))
  ) {
    console.error(
      'usage: COURIER_DESK_PASSWORD=… courier-server desk add-staff|add-authority <username> --name N [--roles …|--country CC --kind K]\n' +
        '       courier-server desk disable-staff|enable-staff <username>   (disabling ends its sessions)',
    );
    return 2;
  }
  const config = loadConfig(values.config, process.env);
  const app = await buildApp(
    { ...config, logLevel: 'error' },
    {
      clock: systemClock,
      random: (n) => randomBytes(n),
      logger: pino({ level: 'error' }),
      sms: noSms,
      env: process.env,
    },
  );
  if (toggle) {
    try {
      const account = await app.desk.setDisabled(username, sub === 'disable-staff');
      if (!account) {
        console.error(`error: no desk account ${username}`);
        return 1;
      }
      console.log(
        JSON.stringify({
          username: account.username,
          kind: account.kind,
          disabled: account.disabledAt !== null,
        }),
      );
      return 0;
    } finally {
      await app.close();
    }
  }
  try {
    const created = await app.desk.createAccount({
      kind: sub === 'add-staff' ? 'staff' : 'authority',
      username,
      displayName: values.name!,
      password: password!,
      roles: (values.roles ?? '').split(',').filter(Boolean) as DeskRole[],
      ...(values.country ? { country: values.country } : {}),
      ...(values.kind ? { authorityKind: values.kind } : {}),
    });
    console.log(JSON.stringify(created, null, 2));
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  // One line an operator can act on: a typed failure names its code; anything else its message.
  if (error instanceof CourierError) console.error(`error ${error.code}: ${error.message}`);
  else {
    console.error(error instanceof Error ? `error: ${error.message}` : error);
    if (error instanceof Error && error.cause)
      console.error(`  cause: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}`);
  }
  process.exit(1);
});
