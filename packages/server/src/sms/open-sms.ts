import { CourierError } from '@courier/protocol';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { HttpSmsSender } from './http/http-sms-sender.ts';
import { LogSmsSender } from './log/log-sms-sender.ts';
import type { SmsSender } from './ports.ts';

/**
 * Opens the configured SMS adapter. The log adapter writes every code and phone number to the log,
 * so it is refused unless development mode was asked for explicitly, and then announced loudly.
 */
export function openSms(
  config: Config['sms'],
  logger: Logger,
  env: Readonly<Record<string, string | undefined>>,
  dev: boolean,
): SmsSender {
  switch (config.kind) {
    case 'log':
      if (!dev) throw new CourierError('SERVER_DEV_ONLY');
      logger.warn(
        '*** DEVELOPMENT MODE: the log SMS adapter prints every verification code and phone number in this log. Never run it for real users: configure sms {kind: "http"} and leave dev off. ***',
      );
      return new LogSmsSender(logger, config.outboxFile);
    case 'http': {
      const credential = env[config.credentialEnv];
      if (!credential)
        throw new Error(`SMS gateway credential: environment variable ${config.credentialEnv} is not set`);
      return new HttpSmsSender({
        url: config.url,
        credential,
        sender: config.sender,
        timeoutMs: config.timeoutMs,
      });
    }
  }
}
