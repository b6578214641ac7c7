import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { createRelay, type RelayLimits } from '../relay/relay-server.ts';

export const USAGE = `usage: courier-server relay --upstream <core base URL> --path <secret path> --cert <pem> --key <pem>
         [--host 0.0.0.0] [--port 443] [--max-connections N] [--connects-per-second N] [--max-head-bytes N]
         [--stats-interval-s 60]`;

/** `courier-server relay`: runs until SIGINT/SIGTERM; logs aggregate counters only. */
export async function runRelayCommand(argv: string[], logger: Logger): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch {
    console.error(USAGE);
    return 2;
  }
  if (!values.upstream || !values.path || !values.cert || !values.key) {
    console.error(USAGE);
    return 2;
  }
  const limits: Partial<RelayLimits> = {};
  if (values['max-connections']) limits.maxConnections = Number(values['max-connections']);
  if (values['connects-per-second'])
    limits.connectsPerSourcePerSecond = Number(values['connects-per-second']);
  if (values['max-head-bytes']) limits.maxBytesBeforeUpgrade = Number(values['max-head-bytes']);
  for (const [name, value] of Object.entries(limits))
    if (!Number.isInteger(value) || value < 1) {
      console.error(`error: ${name} must be a positive integer`);
      return 2;
    }
  const relay = createRelay({
    upstream: values.upstream,
    path: values.path,
    tls: { cert: readFileSync(values.cert), key: readFileSync(values.key) },
    limits,
  });
  const address = await relay.listen(Number(values.port ?? 443), values.host ?? '0.0.0.0');
  // The address the relay listens on is the operator's own; no client address is ever logged.
  logger.info({ address }, 'relay listening');
  const interval = setInterval(
    () => logger.info({ counters: relay.counters }, 'relay counters'),
    Number(values['stats-interval-s'] ?? 60) * 1000,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(interval);
  logger.info({ counters: relay.counters }, 'relay stopping');
  await relay.close();
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      upstream: { type: 'string' },
      path: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'max-connections': { type: 'string' },
      'connects-per-second': { type: 'string' },
      'max-head-bytes': { type: 'string' },
      'stats-interval-s': { type: 'string' },
    },
  });
}
