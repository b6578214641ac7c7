import { type Kysely, sql } from 'kysely';
import type { ClientKey, CursorUpdate, EntryRow, StoredSend, Stores } from '../ports.ts';
import type { Database } from '../schema.ts';

/**
 * The delivery commit's statements on PostgreSQL with a fixed text whatever the batch size: each
 * column travels as one array parameter and `unnest` turns the arrays back into rows. The Kysely
 * stores build a VALUES list with a parameter per value, which Kysely compiles and pg serialises
 * anew for every batch (issue 15's profile). The SQL means what the Kysely stores' SQL means, and
 * the storage equivalence test runs both on PostgreSQL.
 *
 * A transaction's stores only, like the SQLite hot path: `lockGroups` remembers what this
 * transaction locked, so `allocateSeqs` does not lock those rows a second time.
 */
export function postgresHotPath(stores: Stores, trx: Kysely<Database>): Stores {
  const locked = new Set<string>();
  const lock = async (ids: readonly string[]) => {
    const missing = [...new Set(ids)].filter((id) => !locked.has(id)).sort();
    if (missing.length === 0) return;
    // In id order, so that batches on several nodes cannot deadlock.
    await sql`SELECT id FROM groups WHERE id = ANY(${missing}::text[]) ORDER BY id FOR UPDATE`.execute(trx);
    for (const id of missing) locked.add(id);
  };

  const groups = Object.create(stores.groups) as Stores['groups'];
  groups.lockGroups = lock;
  groups.allocateSeqs = async (counts) => {
    const ids = [...counts.keys()].sort();
    const result = new Map<string, number>();
    if (ids.length === 0) return result;
    await lock(ids);
    const rows = await sql<{ id: string; last_seq: number | string }>`
      UPDATE groups SET last_seq = groups.last_seq + v.n
      FROM unnest(${ids}::text[], ${ids.map((id) => counts.get(id)!)}::bigint[]) AS v(id, n)
      WHERE groups.id = v.id
      RETURNING groups.id, groups.last_seq`.execute(trx);
    for (const r of rows.rows) result.set(r.id, Number(r.last_seq));
    return result;
  };
  groups.memberPairs = async (pairs) => {
    if (pairs.length === 0) return [];
    const rows = await sql<{ group_id: string; account_id: string }>`
      SELECT group_id, account_id FROM group_members
      WHERE (group_id, account_id) IN (
        SELECT * FROM unnest(${pairs.map((p) => p.groupId)}::text[], ${pairs.map((p) => p.accountId)}::text[]))`.execute(
      trx,
    );
    return rows.rows.map((r) => ({ groupId: r.group_id, accountId: r.account_id }));
  };

  const entries = Object.create(stores.entries) as Stores['entries'];
  entries.insert = async (rows) => insertEntries(trx, rows);
  entries.storedSends = async (keys) => storedSends(trx, keys);

  const cursors = Object.create(stores.cursors) as Stores['cursors'];
  cursors.advance = async (updates) => advance(trx, updates);

  return { ...stores, groups, entries, cursors };
}

/** Rows per statement: each array parameter stays well below what one message to the server holds. */
const CHUNK = 2000;

async function insertEntries(trx: Kysely<Database>, rows: readonly EntryRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const column = <T>(pick: (r: EntryRow) => T) => chunk.map(pick);
    await sql`
      INSERT INTO group_entries
        (group_id, seq, kind, sender_account_id, sender_device_id, client_msg_id, payload, created_at)
      SELECT * FROM unnest(
        ${column((r) => r.groupId)}::text[], ${column((r) => r.seq)}::bigint[], ${column((r) => r.kind)}::text[],
        ${column((r) => r.senderAccountId)}::text[], ${column((r) => r.senderDeviceId)}::text[],
        ${column((r) => r.clientMsgId)}::text[],
        ${column((r) => Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength))}::bytea[],
        ${column((r) => r.createdAt)}::bigint[])`.execute(trx);
  }
}

async function storedSends(trx: Kysely<Database>, keys: readonly ClientKey[]): Promise<StoredSend[]> {
  const found: StoredSend[] = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    const rows = await sql<{
      sender_device_id: string;
      client_msg_id: string;
      target: string;
      seq: number | string;
    }>`
      SELECT sender_device_id, client_msg_id, group_id AS target, seq FROM group_entries
      WHERE (sender_device_id, client_msg_id) IN (
        SELECT * FROM unnest(${chunk.map((k) => k.senderDeviceId)}::text[], ${chunk.map((k) => k.clientMsgId)}::text[]))`.execute(
      trx,
    );
    for (const r of rows.rows)
      found.push({
        senderDeviceId: r.sender_device_id,
        clientMsgId: r.client_msg_id,
        target: r.target,
        seq: Number(r.seq),
      });
  }
  return found;
}

async function advance(trx: Kysely<Database>, updates: readonly CursorUpdate[]): Promise<void> {
  // One row per cursor, the highest position (PostgreSQL refuses to update a row twice in one statement).
  const highest = new Map<string, CursorUpdate>();
  for (const u of updates) {
    const key = `${u.deviceId} ${u.groupId}`;
    if ((highest.get(key)?.ackedSeq ?? -1) < u.ackedSeq) highest.set(key, u);
  }
  const all = [...highest.values()];
  for (let i = 0; i < all.length; i += CHUNK) {
    const chunk = all.slice(i, i + CHUNK);
    // As KyselyCursorStore.advance: a device without a cursor row stands just before its join.
    await sql`
      INSERT INTO device_cursors (device_id, group_id, acked_seq)
      SELECT v.d, v.g, CASE WHEN m.joined_seq IS NULL OR v.s >= m.joined_seq - 1 THEN v.s ELSE m.joined_seq - 1 END
      FROM unnest(${chunk.map((u) => u.deviceId)}::text[], ${chunk.map((u) => u.groupId)}::text[],
        ${chunk.map((u) => u.ackedSeq)}::bigint[]) AS v(d, g, s)
      LEFT JOIN devices d ON d.id = v.d
      LEFT JOIN group_members m ON m.group_id = v.g AND m.account_id = d.account_id
      ON CONFLICT (device_id, group_id) DO UPDATE SET acked_seq = excluded.acked_seq
        WHERE device_cursors.acked_seq < excluded.acked_seq`.execute(trx);
  }
}
