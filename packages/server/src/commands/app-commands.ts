import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { buildApp } from '../app/build-app.ts';
import { systemClock } from '../deps.ts';
import { loadConfig, noSms, openLogger } from './load-config.ts';

export const SERVE_USAGE = `usage: courier-server serve [--config file.json] [--dev]
  runs the server (HTTP API, WebSocket gateway, web app, desk, transparency page) until SIGINT/SIGTERM;
  --dev allows the development SMS adapter, which logs codes and phone numbers`;
export const MIGRATE_USAGE = `usage: courier-server migrate [--config file.json]
  brings the database schema to the newest version and exits`;
export const PURGE_USAGE = `usage: courier-server purge [--config file.json]   (alias: prune)
  applies every retention rule now, prints what was removed as JSON and exits`;

type AppCommand = 'serve' | 'migrate' | 'purge';

/** serve, migrate and purge: the commands that build the whole app from the config. */
export async function runAppCommand(command: AppCommand, argv: string[]): Promise<number> {
  const usage = { serve: SERVE_USAGE, migrate: MIGRATE_USAGE, purge: PURGE_USAGE }[command];
  let values: { config?: string | undefined; dev?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: { config: { type: 'string' }, dev: { type: 'boolean' } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const config = loadConfig(values.config, process.env, values.dev);
  const logger = await openLogger(config.logLevel, process.env);
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
    return 0;
  }
  if (command === 'purge') {
    console.log(JSON.stringify(await app.retention.run()));
    await app.close();
    return 0;
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
  // Serving goes on after this returns; the exit code is set when it stops.
  return 0;
}
