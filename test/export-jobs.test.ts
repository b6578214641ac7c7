import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportJobView } from '@courier/protocol';
import { CourierHttp } from '@courier/sdk';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, unsafeTestingClock } from './support/harness.ts';

const HOUR = 3_600_000;

/** Polls a job until it is no longer queued or running (no timing is asserted; the deadline only ends a hang). */
async function settled(http: CourierHttp, jobId: string): Promise<{ job: ExportJobView; seen: number[] }> {
  const seen: number[] = [];
  const deadline = Date.now() + 20_000;
  for (;;) {
    const job = await http.exportJob(jobId);
    seen.push(job.progress);
    if (job.state !== 'queued' && job.state !== 'running') return { job, seen };
    if (Date.now() > deadline) throw new Error(`export ${jobId} still ${job.state} at ${job.progress}%`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A job row as a server (this one, another node, or one killed) left it. */
const jobRow = (
  id: string,
  accountId: string,
  state: 'queued' | 'running',
  progress: number,
  at: number,
) => ({
  id,
  accountId,
  state,
  progress,
  createdAt: at,
  updatedAt: at,
  finishedAt: null,
  file: null,
  bytes: null,
  expiresAt: null,
  error: null,
});

const accountJson = (zip: Uint8Array) => JSON.parse(strFromU8(unzipSync(zip)['account.json']!));

describe('data export as a job', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-export-jobs-'));
  const exportsDir = join(dir, 'exports');
  const clock = new unsafeTestingClock(Date.UTC(2026, 2, 1));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      sqlitePath: join(dir, 'courier.db'),
      clock,
      config: { exports: { dir: exportsDir }, retention: { exportArchiveHours: 72 } },
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with progress to a downloadable archive that only its owner can read, and expires', async () => {
    const [owner, other] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
    const started = await owner.http.startExport();
    expect(started).toMatchObject({ state: 'queued', progress: 0, finishedAtMs: null, expiresAtMs: null });
    const { job, seen } = await settled(owner.http, started.jobId);
    expect(job).toMatchObject({ state: 'done', progress: 100, error: null });
    expect(job.expiresAtMs).toBe(clock.now() + 72 * HOUR);
    // Progress only goes forward.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    const zip = await owner.http.downloadExport(job.jobId);
    expect(zip.byteLength).toBe(job.bytes);
    expect(accountJson(zip).account.phone).toBe(owner.phone);
    expect(JSON.stringify(accountJson(zip))).not.toContain(other.phone);
    const file = join(exportsDir, `${job.jobId}.zip`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await owner.http.exportJobs()).toEqual([job]);

    // A newer export replaces the archive of an older one (one archive per account on disk).
    const again = await settled(owner.http, (await owner.http.startExport()).jobId);
    expect(again.job.jobId).not.toBe(job.jobId);
    expect(existsSync(file)).toBe(false);
    expect(await owner.http.exportJob(job.jobId)).toMatchObject({ state: 'expired' });
    await expect(owner.http.downloadExport(job.jobId)).rejects.toMatchObject({ code: 'EXPORT_EXPIRED' });
    const newer = join(exportsDir, `${again.job.jobId}.zip`);
    expect(accountJson(await owner.http.downloadExport(again.job.jobId)).account.phone).toBe(owner.phone);

    // Anyone else gets the same typed error as for a job that does not exist.
    for (const call of [() => other.http.exportJob(job.jobId), () => other.http.downloadExport(job.jobId)]) {
      await expect(call()).rejects.toMatchObject({ code: 'EXPORT_NOT_FOUND' });
    }
    await expect(other.http.exportJob('x_nope')).rejects.toMatchObject({ code: 'EXPORT_NOT_FOUND' });
    await expect(other.http.exportJob('../../etc/passwd')).rejects.toMatchObject({
      code: 'EXPORT_NOT_FOUND',
    });
    expect(await other.http.exportJobs()).toEqual([]);

    // Retention (injected clock): kept for the window, then the file goes and the job says so...
    clock.advance(71 * HOUR);
    expect(await server.app.retention.run()).toMatchObject({ exportArchives: 0, exportJobs: 0 });
    expect(existsSync(newer)).toBe(true);
    clock.advance(2 * HOUR);
    expect(await server.app.retention.run()).toMatchObject({ exportArchives: 1, exportJobs: 0 });
    expect(existsSync(newer)).toBe(false);
    expect(await owner.http.exportJob(again.job.jobId)).toMatchObject({ state: 'expired' });
    await expect(owner.http.downloadExport(again.job.jobId)).rejects.toMatchObject({
      code: 'EXPORT_EXPIRED',
    });
    // ... and one more window later the job records go too.
    clock.advance(72 * HOUR);
    expect(await server.app.retention.run()).toMatchObject({ exportArchives: 0, exportJobs: 2 });
    await expect(owner.http.exportJob(again.job.jobId)).rejects.toMatchObject({ code: 'EXPORT_NOT_FOUND' });
  });

  it('refuses a download before the archive is ready, and gives the job under way to a second request', async () => {
    const user = await server.register(nextPhone());
    // A job another node is running right now (it wrote progress at this very moment).
    await server.app.storage.exportJobs.insert(
      jobRow('x_runningElsewhere0000a0', user.accountId, 'running', 40, clock.now()),
    );
    await expect(user.http.downloadExport('x_runningElsewhere0000a0')).rejects.toMatchObject({
      code: 'EXPORT_NOT_READY',
    });
    expect(await user.http.startExport()).toMatchObject({ jobId: 'x_runningElsewhere0000a0', progress: 40 });
    expect(await user.http.exportJobs()).toHaveLength(1);
  });

  it('deletes archives and jobs with the account', async () => {
    const user = await server.register(nextPhone());
    const { job } = await settled(user.http, (await user.http.startExport()).jobId);
    expect(existsSync(join(exportsDir, `${job.jobId}.zip`))).toBe(true);
    await user.http.deleteAccount(user.phone);
    expect(existsSync(join(exportsDir, `${job.jobId}.zip`))).toBe(false);
    expect(await server.app.storage.exportJobs.byAccount(user.accountId)).toEqual([]);
  });
});

describe('export jobs across a restart', () => {
  it('runs a queued job, and takes over a running one whose server stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-export-restart-'));
    const sqlitePath = join(dir, 'courier.db');
    const clock = new unsafeTestingClock(Date.UTC(2026, 3, 1));
    const config = { exports: { dir: join(dir, 'exports'), staleAfterMs: 60_000, pollIntervalMs: 20 } };
    const first = await startTestServer({ sqlitePath, clock, config });
    const [queued, interrupted] = await Promise.all([
      first.register(nextPhone()),
      first.register(nextPhone()),
    ]);
    // What a server killed mid-export leaves behind: one job queued, one running.
    await first.app.exports.stop();
    const row = (id: string, accountId: string, state: 'queued' | 'running') =>
      jobRow(id, accountId, state, state === 'running' ? 30 : 0, clock.now());
    await first.app.storage.exportJobs.insert(row('x_queuedBeforeRestart000', queued.accountId, 'queued'));
    await first.app.storage.exportJobs.insert(
      row('x_runningWhenKilled00000', interrupted.accountId, 'running'),
    );
    await first.close();

    const second = await startTestServer({ sqlitePath, clock, config });
    try {
      const q = await settled(new CourierHttp(second.url, queued.token), 'x_queuedBeforeRestart000');
      expect(q.job.state).toBe('done');
      // The running job is not taken while its node might still be at it...
      await second.app.exports.idle();
      expect(await second.app.storage.exportJobs.byId('x_runningWhenKilled00000')).toMatchObject({
        state: 'running',
        progress: 30,
      });
      // ... but once it has written nothing for longer than staleAfterMs, it is run again.
      clock.advance(61_000);
      const r = await settled(new CourierHttp(second.url, interrupted.token), 'x_runningWhenKilled00000');
      expect(r.job.state).toBe('done');
      const zip = await new CourierHttp(second.url, interrupted.token).downloadExport(
        'x_runningWhenKilled00000',
      );
      expect(accountJson(zip).account.phone).toBe(interrupted.phone);
      expect(readdirSync(join(dir, 'exports')).sort()).toEqual([
        'x_queuedBeforeRestart000.zip',
        'x_runningWhenKilled00000.zip',
      ]);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an export that cannot be written', () => {
  it('fails with EXPORT_FAILED, leaves no partial file, and a new request starts a new job', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-export-fail-'));
    // The export folder's path is taken by a file: the archive cannot be written.
    const blocked = join(dir, 'exports');
    writeFileSync(blocked, 'not a folder');
    const server = await startTestServer({
      sqlitePath: join(dir, 'courier.db'),
      config: { exports: { dir: blocked } },
    });
    try {
      const user = await server.register(nextPhone());
      const { job } = await settled(user.http, (await user.http.startExport()).jobId);
      expect(job).toMatchObject({ state: 'failed', error: 'EXPORT_FAILED', expiresAtMs: null, bytes: null });
      await expect(user.http.downloadExport(job.jobId)).rejects.toMatchObject({ code: 'EXPORT_FAILED' });
      await expect(user.http.exportData()).rejects.toMatchObject({ code: 'EXPORT_FAILED' });
      expect((await user.http.exportJobs()).map((j) => j.state)).toEqual(['failed', 'failed']);
      expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
