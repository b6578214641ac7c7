import { type FileHandle, open } from 'node:fs/promises';

/**
 * Makes SQLite's commits durable off the event loop. With `synchronous = FULL` SQLite fsyncs the WAL
 * inside COMMIT, and better-sqlite3 runs COMMIT on the event loop: every delivery batch stopped every
 * socket for the length of an fsync (2.5–5 ms on this machine's disk). With `synchronous = NORMAL`
 * in WAL mode COMMIT writes the WAL without syncing it; this class then syncs the WAL file from
 * libuv's thread pool (`fdatasync`), and the storage call returns only once that is done, so a caller
 * is still answered only when what it wrote is on disk. One sync covers every commit made before it
 * started (group commit): callers that arrive while a sync runs share the next one.
 *
 * Why this is as durable as FULL: SQLite in WAL mode with NORMAL syncs the WAL before each
 * checkpoint and the database file after it, and the WAL header when the file is reused. A frame
 * written by a commit is therefore either still in the WAL (which the sync here makes durable) or
 * was copied into the database by a checkpoint that synced it. Readers of other requests may see a
 * commit a few milliseconds before it is durable; nothing is acknowledged or fanned out before.
 */
export class WalSync {
  private handle: Promise<FileHandle> | undefined;
  /** The sync running now, and the total_changes() value when it started. */
  private current: { done: Promise<void>; changes: number } | undefined;
  /** A sync queued to start when the current one ends. */
  private next: Promise<void> | undefined;
  /** total_changes() when the last sync that completed had started. */
  private synced: number;
  private closed = false;

  constructor(
    private readonly walPath: string,
    /** SQLite's total_changes(): rows written by this connection since it opened. */
    private readonly totalChanges: () => number,
    /** Syncs the WAL's data to disk (tests pass their own to decide when a sync ends). */
    private readonly datasync: () => Promise<void> = () => this.datasyncFile(),
  ) {
    this.synced = totalChanges();
  }

  /**
   * Resolves once everything this connection has committed so far is on disk. Called after each
   * storage call has released the connection, so other calls run while the disk works.
   */
  async afterCall(): Promise<void> {
    const changes = this.totalChanges();
    if (changes === this.synced || this.closed) return;
    if (this.current !== undefined && this.next === undefined && changes === this.current.changes)
      return this.current.done;
    return this.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.current?.done, this.next]);
    const handle = this.handle;
    this.handle = undefined;
    if (handle !== undefined) await (await handle.catch(() => undefined))?.close();
  }

  private flush(): Promise<void> {
    if (this.next !== undefined) return this.next;
    if (this.current === undefined) return this.start();
    const next = this.current.done
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    this.next = next;
    return next;
  }

  private start(): Promise<void> {
    const changes = this.totalChanges();
    const done = this.sync();
    const current = { done, changes };
    this.current = current;
    const end = (ok: boolean) => {
      if (this.current === current) this.current = undefined;
      if (ok && changes > this.synced) this.synced = changes;
    };
    done.then(
      () => end(true),
      () => end(false),
    );
    return done;
  }

  private async datasyncFile(): Promise<void> {
    try {
      this.handle ??= open(this.walPath, 'r');
      await (await this.handle).datasync();
    } catch (error) {
      this.handle = undefined;
      throw error;
    }
  }

  private async sync(): Promise<void> {
    try {
      await this.datasync();
    } catch (cause) {
      // Named like SQLite's own I/O failure, which callers already read as "storage unavailable".
      throw Object.assign(new Error(`could not sync the SQLite WAL to disk: ${String(cause)}`), {
        code: 'SQLITE_IOERR_FSYNC',
        cause,
      });
    }
  }
}
