import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../deps.ts';
import type { MediaService } from '../media/media-service.ts';
import type { Storage } from '../storage/ports.ts';
import { CONSENT_KEY_PREFIX } from './consent-limits.ts';
import type { ExportJobs } from './export-jobs.ts';
import type { PrivacyService } from './privacy-service.ts';

export interface RetentionReport {
  entries: number;
  authCodes: number;
  rateLimits: number;
  connectionRecords: number;
  sessions: number;
  selfDestructedAccounts: number;
  /** Public ratchet trees kept for joiners, past the entry TTL (each group's newest stays). */
  ratchetTrees: number;
  /** Data-export archives past `retention.exportArchiveHours` (the job then shows `expired`). */
  exportArchives: number;
  /** Export jobs expired or failed one more window ago. */
  exportJobs: number;
  /** Legal-desk sessions past their expiry, and failed desk logins older than the throttling window. */
  deskSessions: number;
  deskLoginFailures: number;
  /** Reports (forwarded messages) older than `retention.reportMonths`. */
  reports: number;
  /** Media uploads never finished within `media.incompleteUploadTtlMs`. */
  mediaUploads: number;
  /** Media blobs no retained message can point at any more (`media.blobTtlMs`). */
  mediaBlobs: number;
}

const MONTH_MS = 2_629_746_000;
const DAY_MS = 86_400_000;

/**
 * Every retention rule, on a schedule and from `courier-server purge`: log entries every member
 * has (or past their TTL), expired codes and rate windows, connection records past the IP
 * retention window, idle sessions, accounts past their self-destruct period, and data-export
 * archives past their window, and reports past `retention.reportMonths`.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly privacy: PrivacyService,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly exports: ExportJobs,
    private readonly media?: MediaService,
  ) {}

  async run(): Promise<RetentionReport> {
    const now = this.clock.now();
    const { retention } = this.config;
    const exports = await this.exports.expire(now);
    const report: RetentionReport = {
      entries: await this.storage.entries.prune(now - this.config.delivery.entryTtlMs),
      authCodes: await this.storage.authCodes.deleteExpired(now),
      // Windows end after the longest of the rate limits that use this table (the consent limits'
      // day-long windows apart).
      rateLimits:
        (await this.storage.rateLimits.deleteExpired(
          now -
            Math.max(
              this.config.auth.rateWindowMs,
              this.config.limits.keyPackageClaimWindowMs,
              this.config.reports.windowMs,
              this.config.media.uploadWindowMs,
            ),
          { exceptPrefix: CONSENT_KEY_PREFIX },
        )) +
        (await this.storage.rateLimits.deleteExpired(now - this.config.consent.windowMs, {
          prefix: CONSENT_KEY_PREFIX,
        })),
      // With a retention of 0 no record is ever written; any left from before go now.
      connectionRecords: await this.storage.connections.deleteOlderThan(now - retention.ipMonths * MONTH_MS),
      sessions: await this.storage.sessions.deleteUnusedSince(now - retention.sessionIdleDays * DAY_MS),
      selfDestructedAccounts: await this.privacy.selfDestruct(),
      ratchetTrees: await this.storage.mlsGroups.pruneTrees(now - this.config.delivery.entryTtlMs),
      exportArchives: exports.archives,
      exportJobs: exports.jobs,
      deskSessions: await this.storage.desk.deleteExpiredSessions(now),
      reports: await this.storage.reports.deleteOlderThan(now - retention.reportMonths * MONTH_MS),
      deskLoginFailures: await this.storage.desk.deleteLoginFailuresBefore(
        now - this.config.desk.failedLoginWindowMs,
      ),
      mediaUploads: 0,
      mediaBlobs: 0,
    };
    // After the log was pruned: a blob goes once no retained entry can point at it.
    const media = await this.media?.cleanup();
    report.mediaUploads = media?.incompleteUploads ?? 0;
    report.mediaBlobs = media?.unreferencedBlobs ?? 0;
    this.logger.info({ retention: report }, 'retention rules applied');
    return report;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) => this.logger.error({ err: error }, 'retention run failed'));
    }, this.config.retention.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
