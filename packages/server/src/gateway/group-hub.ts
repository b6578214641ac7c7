import { closeCodes, encodeServerFrame } from '@courier/protocol';
import type { Logger } from 'pino';
import type { EntryRow, Storage } from '../storage/ports.ts';
import { type ClientConnection, frameOnce, type GroupPosition } from './client-connection.ts';
import { type CachedFrame, FrameCache, type FrameCacheLimits } from './frame-cache.ts';

interface HubGroup {
  id: string;
  members: Set<ClientConnection>;
  /** Highest sequence number known to be committed. */
  known: number;
  cache: FrameCache;
  fetching: boolean;
}

/** The entry frame, encoded once and framed once for every member's socket. */
const cachedEntry = (row: EntryRow): CachedFrame => {
  const framed = frameOnce(encodeEntry(row).bytes);
  return { seq: row.seq, senderDeviceId: row.senderDeviceId, bytes: framed.bytes, wire: framed.wire };
};

const encodeEntry = (row: EntryRow): CachedFrame => ({
  seq: row.seq,
  senderDeviceId: row.senderDeviceId,
  bytes: encodeServerFrame({
    type: 'entry',
    groupId: row.groupId,
    seq: row.seq,
    kind: row.kind,
    senderAccountId: row.senderAccountId,
    senderDeviceId: row.senderDeviceId,
    clientMsgId: row.clientMsgId,
    payload: row.payload,
    sentAtMs: row.createdAt,
  }),
});

/**
 * Fan-out of group logs to this node's connections. Each new entry is read (or received from the
 * local commit) once and encoded once, then the same bytes go to every member connection. A
 * connection that is behind the cache catches up from the store, one page at a time, and only
 * while it is not paused: memory stays bounded whatever the readers do.
 */
export class GroupHub {
  private readonly groups = new Map<string, HubGroup>();
  /** Bytes in all groups' caches, and where the last eviction sweep stopped. */
  private totalBytes = 0;
  private sweep: Iterator<HubGroup> | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly options: {
      /** What each group's frame cache may hold, in entries and in bytes. */
      cache: FrameCacheLimits;
      /** What all groups' caches on this node may hold together, in bytes. */
      totalCacheBytes: number;
      /** One read from the store: at most this many entries, and this many payload bytes. */
      pageSize: number;
      pageBytes: number;
    },
    private readonly logger: Logger,
  ) {}

  /** Starts delivering a group to a connection, after `fromSeq`. */
  join(connection: ClientConnection, groupId: string, fromSeq: number, lastSeq: number): void {
    let group = this.groups.get(groupId);
    if (!group) {
      group = {
        id: groupId,
        members: new Set(),
        known: lastSeq,
        cache: new FrameCache(lastSeq, this.options.cache),
        fetching: false,
      };
      this.groups.set(groupId, group);
    }
    group.members.add(connection);
    connection.groups.set(groupId, { sent: fromSeq, reading: false });
    this.noteCommitted(group, lastSeq);
    this.pump(connection, group);
  }

  leave(connection: ClientConnection, groupId: string): void {
    connection.groups.delete(groupId);
    const group = this.groups.get(groupId);
    if (!group) return;
    group.members.delete(connection);
    if (group.members.size === 0) {
      this.totalBytes -= group.cache.bytes;
      this.groups.delete(groupId);
    }
  }

  dropConnection(connection: ClientConnection): void {
    for (const groupId of [...connection.groups.keys()]) this.leave(connection, groupId);
  }

  /** Entries this node just committed: cached without a read, then fanned out. */
  onEntriesCommitted(rows: readonly EntryRow[]): void {
    const touched = new Set<HubGroup>();
    for (const row of rows) {
      const group = this.groups.get(row.groupId);
      if (!group) continue;
      if (row.seq === group.cache.last + 1 && !group.fetching) this.cachePush(group, cachedEntry(row));
      group.known = Math.max(group.known, row.seq);
      touched.add(group);
    }
    for (const group of touched) this.advance(group);
  }

  /** Another node (or a roster change) committed entries up to `seq`. */
  onGroupAppended(groupId: string, seq: number): void {
    const group = this.groups.get(groupId);
    if (group) this.noteCommitted(group, seq);
  }

  /** Bytes of encoded frames held in every group's fan-out cache on this node. */
  get cachedBytes(): number {
    return this.totalBytes;
  }

  /** The groups this node serves (those with at least one local member connection). */
  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** The connection drained below the low-water mark: continue where it stopped. */
  resume(connection: ClientConnection): void {
    for (const groupId of connection.groups.keys()) {
      const group = this.groups.get(groupId);
      if (group) this.pump(connection, group);
    }
  }

  private cachePush(group: HubGroup, frame: CachedFrame): void {
    const before = group.cache.bytes;
    group.cache.push(frame);
    this.totalBytes += group.cache.bytes - before;
    if (this.totalBytes > this.options.totalCacheBytes) this.evict();
  }

  /**
   * Over the node's budget: drops the oldest frame of each group in turn, round-robin across
   * calls, until the caches fit. Readers behind a dropped frame read it from the store.
   */
  private evict(): void {
    let idle = 0;
    while (this.totalBytes > this.options.totalCacheBytes && idle <= this.groups.size) {
      let next = this.sweep?.next();
      if (!next || next.done) {
        this.sweep = this.groups.values();
        next = this.sweep.next();
        if (next.done) return;
      }
      const bytes = next.value.cache.dropOldest();
      this.totalBytes -= bytes;
      idle = bytes === 0 ? idle + 1 : 0;
    }
  }

  private noteCommitted(group: HubGroup, seq: number): void {
    if (seq <= group.known && seq <= group.cache.last) return;
    group.known = Math.max(group.known, seq);
    this.advance(group);
  }

  private advance(group: HubGroup): void {
    if (group.known > group.cache.last) {
      this.fetch(group);
      return;
    }
    for (const connection of group.members) this.pump(connection, group);
  }

  /** Reads entries the cache lacks, once for all members. */
  private fetch(group: HubGroup): void {
    if (group.fetching) return;
    group.fetching = true;
    (async () => {
      try {
        while (group.cache.last < group.known) {
          const rows = await this.storage.entries.range(
            group.id,
            group.cache.last,
            this.options.pageSize,
            this.options.pageBytes,
          );
          if (rows.length === 0) break;
          for (const row of rows) {
            // Entries pruned by age leave a gap: the cache restarts after it.
            if (row.seq !== group.cache.last + 1) {
              this.totalBytes -= group.cache.bytes;
              group.cache = new FrameCache(row.seq - 1, this.options.cache);
            }
            this.cachePush(group, cachedEntry(row));
          }
        }
      } catch (error) {
        this.logger.error({ err: error, groupId: group.id }, 'fan-out read failed; retrying');
        setTimeout(() => this.advance(group), 1000).unref();
      } finally {
        group.fetching = false;
      }
      for (const connection of group.members) this.pump(connection, group);
    })().catch((error: unknown) =>
      this.logger.error({ err: error, groupId: group.id }, 'fan-out pump failed'),
    );
  }

  private pump(connection: ClientConnection, group: HubGroup): void {
    const position = connection.groups.get(group.id);
    if (!position) return;
    while (position.sent < group.cache.last && !connection.paused && !connection.closed) {
      const next = position.sent + 1;
      const frame = group.cache.get(next);
      if (!frame) {
        this.catchUp(connection, group, position);
        return;
      }
      position.sent = next;
      if (frame.senderDeviceId !== connection.deviceId) {
        if (frame.wire) connection.writeFramed({ bytes: frame.bytes, wire: frame.wire });
        else connection.write(frame.bytes);
      }
    }
  }

  /** A connection behind the cache reads its own pages from the store. */
  private catchUp(connection: ClientConnection, group: HubGroup, position: GroupPosition): void {
    if (position.reading) return;
    position.reading = true;
    (async () => {
      try {
        const limit = Math.min(this.options.pageSize, group.cache.first - 1 - position.sent);
        const rows = await this.storage.entries.range(
          group.id,
          position.sent,
          Math.max(limit, 1),
          this.options.pageBytes,
        );
        for (const row of rows) {
          if (connection.paused || connection.closed || connection.groups.get(group.id) !== position) break;
          if (row.seq <= position.sent) continue;
          position.sent = row.seq;
          if (row.senderDeviceId !== connection.deviceId) connection.write(encodeEntry(row).bytes);
        }
        // Everything before the cache was pruned: skip to it.
        if (rows.length === 0 && position.sent < group.cache.first - 1) position.sent = group.cache.first - 1;
      } catch (error) {
        // The device reconnects and resumes from its cursor.
        this.logger.error({ err: error, groupId: group.id }, 'catch-up read failed');
        connection.close('SERVER_UNAVAILABLE', closeCodes.SHUTTING_DOWN);
        return;
      } finally {
        position.reading = false;
      }
      if (connection.groups.get(group.id) === position) this.pump(connection, group);
    })().catch((error: unknown) =>
      this.logger.error({ err: error, groupId: group.id }, 'catch-up pump failed'),
    );
  }
}
