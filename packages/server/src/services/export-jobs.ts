import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CourierError, type ExportJobView } from '@courier/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../deps.ts';
import { buildExport } from '../privacy/export-archive.ts';
import type { PolicyBook } from '../privacy/policy-versions.ts';
import type { ExportJobRow, Storage } from '../storage/ports.ts';
import type { Principal } from './auth-service.ts';

export interface ExportJobsConfig {
  /** Where archives are written (created with mode 0700; files 0600). */
  dir: string;
  /** How long an archive is kept after it is ready. */
  keepMs: number;
  /** A running job whose node wrote no progress for this long is taken over (the node stopped). */
  staleAfterMs: number;
}

const JOB_ID = /^x_[A-Za-z0-9_-]{22}$/;

/** Deletes an archive file; one that is not there (or whose folder is not) is already gone. */
function removeArchive(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
  }
}

const view = (job: ExportJobRow): ExportJobView => ({
  jobId: job.id,
  state: job.state,
  progress: job.progress,
  createdAtMs: job.createdAt,
  finishedAtMs: job.finishedAt,
  expiresAtMs: job.expiresAt,
  bytes: job.bytes,
  error: job.error,
});

/**
 * Data exports as jobs: a request queues one (or returns the one under way), a runner builds the
 * archive in the background and records its progress, the owner polls and downloads it, and the
 * retention job deletes the archive after its window. Jobs live in storage, so a job that was
 * queued or running when a server stopped is run again by the next one (from the start: an archive
 * is only ever published whole).
 */
export class ExportJobs {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    private readonly random: (n: number) => Uint8Array,
    private readonly policies: PolicyBook,
    private readonly config: ExportJobsConfig,
    private readonly logger: Logger,
  ) {}

  /** Starts an export of the caller's account, or returns the one already queued or running. */
  async start(principal: Principal): Promise<ExportJobView> {
    const active = (await this.storage.exportJobs.byAccount(principal.accountId)).find(
      (j) => j.state === 'queued' || j.state === 'running',
    );
    if (active) return view(active);
    const now = this.clock.now();
    const job: ExportJobRow = {
      id: `x_${Buffer.from(this.random(16)).toString('base64url')}`,
      accountId: principal.accountId,
      state: 'queued',
      progress: 0,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      file: null,
      bytes: null,
      expiresAt: null,
      error: null,
    };
    await this.storage.exportJobs.insert(job);
    this.kick();
    return view(job);
  }

  async list(principal: Principal): Promise<ExportJobView[]> {
    return (await this.storage.exportJobs.byAccount(principal.accountId)).map(view);
  }

  /** A job of the caller's; anyone else's (or none) is EXPORT_NOT_FOUND, never a hint it exists. */
  async status(principal: Principal, jobId: string): Promise<ExportJobView> {
    return view(await this.owned(principal, jobId));
  }

  /** The finished archive's path and size. */
  async archive(principal: Principal, jobId: string): Promise<{ path: string; bytes: number }> {
    const job = await this.owned(principal, jobId);
    if (job.state === 'expired') throw new CourierError('EXPORT_EXPIRED');
    if (job.state === 'failed') throw new CourierError('EXPORT_FAILED');
    if (job.state !== 'done' || job.file === null) throw new CourierError('EXPORT_NOT_READY');
    return { path: join(this.config.dir, job.file), bytes: job.bytes ?? 0 };
  }

  private async owned(principal: Principal, jobId: string): Promise<ExportJobRow> {
    const job = JOB_ID.test(jobId) ? await this.storage.exportJobs.byId(jobId) : undefined;
    if (!job || job.accountId !== principal.accountId) throw new CourierError('EXPORT_NOT_FOUND');
    return job;
  }

  /**
   * Runs what is runnable now and checks again on an interval: jobs queued before a restart, and
   * running jobs whose node stopped writing progress.
   */
  startRunner(intervalMs: number): void {
    this.kick();
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  /** Stops taking jobs and waits for the one in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Waits until no job is runnable (tests; `courier-server purge` does not run exports). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pump()
      .catch((error: unknown) => this.logger.error({ err: error }, 'export runner failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const now = this.clock.now();
      const next = (await this.storage.exportJobs.runnable(now - this.config.staleAfterMs))[0];
      if (!next) return;
      const claimed = await this.storage.exportJobs.transition(
        next.id,
        { state: next.state, updatedAt: next.updatedAt },
        { state: 'running', progress: 0, updatedAt: now },
      );
      if (claimed) await this.run({ ...next, state: 'running', progress: 0, updatedAt: now });
    }
  }

  private async run(job: ExportJobRow): Promise<void> {
    let updatedAt = job.updatedAt;
    let progress = 0;
    let ours = true;
    const setProgress = async (percent: number) => {
      if (!ours || percent <= progress) return;
      const at = this.clock.now();
      ours = await this.storage.exportJobs.transition(
        job.id,
        { state: 'running', updatedAt },
        { progress: percent, updatedAt: at },
      );
      if (!ours) throw new Error('export job was taken over or deleted');
      progress = percent;
      updatedAt = at;
    };
    const file = `${job.id}.zip`;
    const path = join(this.config.dir, file);
    try {
      const archive = await buildExport(
        this.storage,
        job.accountId,
        this.clock.now(),
        this.policies.current().version,
        setProgress,
      );
      await setProgress(95);
      mkdirSync(this.config.dir, { recursive: true, mode: 0o700 });
      const partial = `${path}.partial`;
      writeFileSync(partial, archive, { mode: 0o600 });
      renameSync(partial, path);
      const now = this.clock.now();
      const published = await this.storage.exportJobs.transition(
        job.id,
        { state: 'running', updatedAt },
        {
          state: 'done',
          progress: 100,
          updatedAt: now,
          finishedAt: now,
          file,
          bytes: archive.byteLength,
          expiresAt: now + this.config.keepMs,
        },
      );
      // Erased (or taken over) meanwhile: what was written is nobody's to download.
      if (!published) removeArchive(path);
      else await this.retireOlder(job.accountId, job.id, now);
    } catch (error) {
      if (!ours) return;
      this.logger.error({ err: error, jobId: job.id }, 'export job failed');
      try {
        removeArchive(`${path}.partial`);
      } catch (cleanup) {
        this.logger.error({ err: cleanup, jobId: job.id }, 'partial export archive not removed');
      }
      const now = this.clock.now();
      await this.storage.exportJobs.transition(
        job.id,
        { state: 'running', updatedAt },
        { state: 'failed', updatedAt: now, finishedAt: now, error: 'EXPORT_FAILED' },
      );
    }
  }

  /**
   * Retention: deletes archives past their window (the job shows `expired` for one more window, so
   * the person learns why the download is gone), then the rows of jobs expired or failed before that.
   */
  async expire(now: number): Promise<{ archives: number; jobs: number }> {
    let archives = 0;
    for (const job of await this.storage.exportJobs.expiring(now)) {
      if (job.file) removeArchive(join(this.config.dir, job.file));
      const changed = await this.storage.exportJobs.transition(
        job.id,
        { state: 'done' },
        { state: 'expired', file: null, updatedAt: now },
      );
      if (changed) archives += 1;
    }
    const jobs = await this.storage.exportJobs.deleteFinishedBefore(now - 2 * this.config.keepMs);
    return { archives, jobs };
  }

  /** One archive per account: a newer one replaces the older ones (so repeated requests cannot fill the disk). */
  private async retireOlder(accountId: string, newest: string, now: number): Promise<void> {
    for (const older of await this.storage.exportJobs.byAccount(accountId)) {
      if (older.id === newest || older.state !== 'done') continue;
      if (older.file) removeArchive(join(this.config.dir, older.file));
      await this.storage.exportJobs.transition(
        older.id,
        { state: 'done' },
        { state: 'expired', file: null, updatedAt: now, expiresAt: now },
      );
    }
  }

  /** Erasure: every archive and job of the account goes. */
  async eraseAccount(accountId: string): Promise<void> {
    for (const job of await this.storage.exportJobs.byAccount(accountId)) {
      removeArchive(join(this.config.dir, `${job.id}.zip`));
    }
    await this.storage.exportJobs.deleteByAccount(accountId);
  }
}
