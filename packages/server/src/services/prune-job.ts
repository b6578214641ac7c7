import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { Storage } from '../storage/ports.ts';

export interface PruneReport {
  entries: number;
  authCodes: number;
  rateLimits: number;
}

/** Removes log entries every member device has (or that passed the TTL), and expired codes. */
export class PruneJob {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  async run(): Promise<PruneReport> {
    const now = this.clock.now();
    const report = {
      entries: await this.storage.entries.prune(now - this.config.delivery.entryTtlMs),
      authCodes: await this.storage.authCodes.deleteExpired(now),
      rateLimits: await this.storage.rateLimits.deleteExpired(now - this.config.auth.rateWindowMs),
    };
    this.logger.info({ prune: report }, 'pruned');
    return report;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) => this.logger.error({ err: error }, 'prune failed'));
    }, this.config.delivery.pruneIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
