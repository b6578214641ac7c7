import type { Logger } from 'pino';
import type { Storage } from '../storage/ports.ts';

/**
 * Channel cursors moved over the socket (`channel_read`, cumulative), coalesced: each account's
 * newest position per channel is kept in memory and all of them are written together at most
 * `flushMs` later, in one transaction of a few statements per channel (the subscriptions standing
 * at the same position move in one conditional update, and the posts they passed get their views in
 * one more), never a write per subscriber per post. As with an HTTP read, a cursor only moves
 * forward and each post is counted once per subscription that passes it. A position lost in a crash
 * costs nothing but a re-read: the client keeps its own cursor and reads the gap over HTTP.
 */
export class ChannelReadBatch {
  private pending = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly flushMs: number,
    private readonly logger: Logger,
  ) {}

  /** The account has read the channel up to `seq` (a position already capped at the channel's last post). */
  read(accountId: string, channelId: string, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq <= 0) return;
    let accounts = this.pending.get(channelId);
    if (!accounts) {
      accounts = new Map();
      this.pending.set(channelId, accounts);
    }
    if ((accounts.get(accountId) ?? 0) < seq) accounts.set(accountId, seq);
    this.schedule();
  }

  /** Writes everything taken so far (for shutdown and tests). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing || this.pending.size > 0) {
      if (this.flushing) await this.flushing;
      else await this.run();
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.flushMs);
    this.timer.unref();
  }

  private run(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch)
      .catch((error: unknown) => {
        // Nothing waits for these: the next read of the same subscriptions carries them again.
        this.logger.error({ err: error }, 'channel read batch failed');
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.pending.size > 0) this.schedule();
      });
    return this.flushing;
  }

  private async write(batch: Map<string, Map<string, number>>): Promise<void> {
    const retry: [string, string, number][] = [];
    await this.storage.transaction(async (stores) => {
      for (const [channelId, reads] of batch) {
        const cursors = await stores.channelSubscriptions.cursorsOf(channelId, [...reads.keys()]);
        // Subscriptions that stand at the same place and move to the same place move together.
        const moves = new Map<string, { from: number; to: number; accounts: string[] }>();
        for (const [accountId, to] of reads) {
          const from = cursors.get(accountId);
          if (from === undefined || to <= from) continue;
          const key = `${from}:${to}`;
          const move = moves.get(key) ?? { from, to, accounts: [] };
          move.accounts.push(accountId);
          moves.set(key, move);
        }
        for (const { from, to, accounts } of moves.values()) {
          const moved = await stores.channelSubscriptions.advanceMany(channelId, accounts, from, to);
          await stores.channelPosts.countViews(channelId, from, to, moved.length);
          // A cursor moved meanwhile (another device's read over HTTP): try again from where it is.
          if (moved.length < accounts.length) {
            const done = new Set(moved);
            for (const accountId of accounts)
              if (!done.has(accountId)) retry.push([accountId, channelId, to]);
          }
        }
      }
    });
    for (const [accountId, channelId, to] of retry) this.read(accountId, channelId, to);
  }
}
