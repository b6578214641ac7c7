import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { HttpSmsSender } from './http/http-sms-sender.ts';
import { LogSmsSender } from './log/log-sms-sender.ts';
import type { SmsSender } from './ports.ts';

export function openSms(config: Config['sms'], logger: Logger, env: NodeJS.ProcessEnv): SmsSender {
  switch (config.kind) {
    case 'log':
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
