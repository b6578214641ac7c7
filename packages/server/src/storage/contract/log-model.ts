import type { DeviceMembership, EntryRow } from '../ports.ts';

/**
 * The group logs, cursors and pruning as the services expect them, kept in memory: the reference
 * that the storage adapters are compared with in the contract suite's property test.
 */
export class LogModel {
  private readonly lastSeqs = new Map<string, number>();
  private readonly logs = new Map<string, Map<number, EntryRow>>();
  /** Cursor rows, by `device group`. Rows of non-members may exist (a late ack after a removal). */
  private readonly cursors = new Map<string, number>();

  constructor(
    /** group → (member account → joined_seq) */
    private readonly members: ReadonlyMap<string, ReadonlyMap<string, number>>,
    /** account → its devices */
    private readonly devicesOf: ReadonlyMap<string, readonly string[]>,
  ) {
    for (const groupId of members.keys()) {
      this.lastSeqs.set(groupId, 0);
      this.logs.set(groupId, new Map());
    }
  }

  lastSeq(groupId: string): number {
    return this.lastSeqs.get(groupId) ?? 0;
  }

  /** Reserves `count` numbers; returns the last, as allocateSeq does. */
  allocate(groupId: string, count: number): number {
    const last = this.lastSeq(groupId) + count;
    this.lastSeqs.set(groupId, last);
    return last;
  }

  insert(rows: readonly EntryRow[]): void {
    for (const row of rows) this.logs.get(row.groupId)?.set(row.seq, row);
  }

  /**
   * An ack never puts a member's cursor behind its join (joined_seq - 1), whether or not it has a row
   * yet (a row started lower is lifted by any ack); a non-member's ack is taken as it is.
   */
  advance(deviceId: string, groupId: string, ackedSeq: number): void {
    const key = `${deviceId} ${groupId}`;
    const joinedSeq = this.joinedSeqOfDevice(deviceId, groupId);
    const acked = joinedSeq !== undefined && ackedSeq < joinedSeq - 1 ? joinedSeq - 1 : ackedSeq;
    const current = this.cursors.get(key);
    if (current === undefined || current < acked) this.cursors.set(key, acked);
  }

  private joinedSeqOfDevice(deviceId: string, groupId: string): number | undefined {
    for (const [accountId, devices] of this.devicesOf)
      if (devices.includes(deviceId)) return this.members.get(groupId)?.get(accountId);
    return undefined;
  }

  start(deviceIds: readonly string[], groupId: string, ackedSeq: number): void {
    for (const deviceId of deviceIds) this.cursors.set(`${deviceId} ${groupId}`, ackedSeq);
  }

  membership(deviceId: string, accountId: string, groupId: string): DeviceMembership | undefined {
    const joinedSeq = this.members.get(groupId)?.get(accountId);
    if (joinedSeq === undefined) return undefined;
    return {
      groupId,
      lastSeq: this.lastSeq(groupId),
      ackedSeq: this.cursors.get(`${deviceId} ${groupId}`) ?? joinedSeq - 1,
    };
  }

  /** With `maxBytes`: the longest prefix whose payloads fit, but at least one entry. */
  range(groupId: string, afterSeq: number, limit: number, maxBytes?: number): EntryRow[] {
    const page = [...(this.logs.get(groupId)?.values() ?? [])]
      .filter((e) => e.seq > afterSeq)
      .sort((x, y) => x.seq - y.seq)
      .slice(0, limit);
    if (maxBytes === undefined) return page;
    let bytes = 0;
    return page.filter((e, i) => {
      bytes += e.payload.byteLength;
      return i === 0 || bytes <= maxBytes;
    });
  }

  /** Everything at or below this was acknowledged by every member device (undefined: no such device). */
  floor(groupId: string): number | undefined {
    let floor: number | undefined;
    for (const [accountId] of this.members.get(groupId) ?? []) {
      for (const deviceId of this.devicesOf.get(accountId) ?? []) {
        const acked = this.membership(deviceId, accountId, groupId)!.ackedSeq;
        floor = floor === undefined ? acked : Math.min(floor, acked);
      }
    }
    return floor;
  }

  /** Deletes what every member device has and what is older than `olderThan`; returns how many. */
  prune(olderThan: number): number {
    let deleted = 0;
    for (const [groupId, log] of this.logs) {
      const floor = this.floor(groupId);
      for (const [seq, row] of log) {
        if (row.createdAt < olderThan || (floor !== undefined && seq <= floor)) {
          log.delete(seq);
          deleted += 1;
        }
      }
    }
    return deleted;
  }
}
