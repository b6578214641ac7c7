import type BetterSqlite3 from 'better-sqlite3';
import type { ClientKey, CursorUpdate, EntryRow, StoredSend, Stores } from '../ports.ts';

/**
 * The delivery commit's statements on SQLite as fixed, prepared, one-row statements run straight on
 * better-sqlite3, instead of a Kysely query built, compiled and (for each new batch size) prepared
 * per batch: a W1 profile had half of the server's time in that plumbing (issue 15). The SQL is
 * the Kysely stores' (storage/kysely), row by row; results are the same, and the storage contract
 * suite runs them.
 *
 * Only for stores inside a transaction: there the transaction holds Kysely's one SQLite connection,
 * so these statements run in it. Outside one, a statement could slip into another caller's open
 * transaction and read what it has not committed.
 */
export class SqliteHotPath {
  private readonly insertEntry: BetterSqlite3.Statement;
  private readonly storedSend: BetterSqlite3.Statement;
  private readonly isMember: BetterSqlite3.Statement;
  private readonly allocate: BetterSqlite3.Statement;
  private readonly advanceCursor: BetterSqlite3.Statement;

  constructor(database: BetterSqlite3.Database) {
    this.insertEntry = database.prepare(
      `INSERT INTO group_entries
        (group_id, seq, kind, sender_account_id, sender_device_id, client_msg_id, payload, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.storedSend = database
      .prepare('SELECT group_id, seq FROM group_entries WHERE sender_device_id = ? AND client_msg_id = ?')
      .raw(true);
    this.isMember = database
      .prepare('SELECT 1 FROM group_members WHERE group_id = ? AND account_id = ?')
      .pluck(true);
    this.allocate = database
      .prepare('UPDATE groups SET last_seq = last_seq + ? WHERE id = ? RETURNING last_seq')
      .pluck(true);
    // As KyselyCursorStore.advance: a device without a cursor row stands just before its join, and
    // an ack below that must not create a row behind it; a cursor never moves back.
    this.advanceCursor = database.prepare(`
      INSERT INTO device_cursors (device_id, group_id, acked_seq)
      SELECT @deviceId, @groupId, CASE WHEN j IS NULL OR @ackedSeq >= j - 1 THEN @ackedSeq ELSE j - 1 END
      FROM (SELECT (SELECT m.joined_seq FROM devices d
        JOIN group_members m ON m.group_id = @groupId AND m.account_id = d.account_id
        WHERE d.id = @deviceId) AS j)
      WHERE true
      ON CONFLICT (device_id, group_id) DO UPDATE SET acked_seq = excluded.acked_seq
        WHERE device_cursors.acked_seq < excluded.acked_seq`);
  }

  /** The stores of a transaction, with the delivery commit's methods replaced by these statements. */
  over(stores: Stores): Stores {
    const groups = Object.create(stores.groups) as Stores['groups'];
    groups.memberPairs = async (pairs) => this.memberPairs(pairs);
    groups.allocateSeqs = async (counts) => {
      const result = new Map<string, number>();
      for (const id of [...counts.keys()].sort()) {
        const last = this.allocate.get(counts.get(id), id) as number | undefined;
        if (last !== undefined) result.set(id, Number(last));
      }
      return result;
    };
    const entries = Object.create(stores.entries) as Stores['entries'];
    entries.insert = async (rows) => this.insertEntries(rows);
    entries.storedSends = async (keys) => this.storedSends(keys);
    const cursors = Object.create(stores.cursors) as Stores['cursors'];
    cursors.advance = async (updates) => this.advance(updates);
    return { ...stores, groups, entries, cursors };
  }

  /** Each pair that is a membership, once (as a query for the set of them answers). */
  private memberPairs(pairs: readonly { groupId: string; accountId: string }[]) {
    const found = new Map<string, { groupId: string; accountId: string }>();
    for (const p of pairs) {
      const key = `${p.groupId} ${p.accountId}`;
      if (!found.has(key) && this.isMember.get(p.groupId, p.accountId) !== undefined)
        found.set(key, { groupId: p.groupId, accountId: p.accountId });
    }
    return [...found.values()];
  }

  private insertEntries(rows: readonly EntryRow[]): void {
    for (const r of rows) {
      this.insertEntry.run(
        r.groupId,
        r.seq,
        r.kind,
        r.senderAccountId,
        r.senderDeviceId,
        r.clientMsgId,
        Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength),
        r.createdAt,
      );
    }
  }

  private storedSends(keys: readonly ClientKey[]): StoredSend[] {
    const found: StoredSend[] = [];
    const seen = new Set<string>();
    for (const k of keys) {
      const key = `${k.senderDeviceId} ${k.clientMsgId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      for (const [target, seq] of this.storedSend.all(k.senderDeviceId, k.clientMsgId) as [string, number][])
        found.push({
          senderDeviceId: k.senderDeviceId,
          clientMsgId: k.clientMsgId,
          target,
          seq: Number(seq),
        });
    }
    return found;
  }

  private advance(updates: readonly CursorUpdate[]): void {
    // One row per cursor, the highest position.
    const highest = new Map<string, CursorUpdate>();
    for (const u of updates) {
      const key = `${u.deviceId} ${u.groupId}`;
      if ((highest.get(key)?.ackedSeq ?? -1) < u.ackedSeq) highest.set(key, u);
    }
    for (const u of highest.values())
      this.advanceCursor.run({ deviceId: u.deviceId, groupId: u.groupId, ackedSeq: u.ackedSeq });
  }
}
