import { appendFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SmsSender } from '../ports.ts';

/**
 * DEVELOPMENT adapter: no SMS leaves the machine. The text is printed in the server log (and,
 * when configured, appended as a JSON line to an outbox file that scripts can read).
 */
export class LogSmsSender implements SmsSender {
  constructor(
    private readonly logger: Logger,
    private readonly outboxFile?: string,
  ) {}

  async send(to: string, text: string): Promise<void> {
    this.logger.warn({ sms: { to, text } }, `[DEVELOPMENT SMS ADAPTER] message to ${to}: ${text}`);
    if (this.outboxFile)
      await appendFile(this.outboxFile, `${JSON.stringify({ to, text, at: Date.now() })}\n`, {
        mode: 0o600,
      });
  }
}
