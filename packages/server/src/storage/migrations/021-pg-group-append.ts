import { type Kysely, sql } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * PostgreSQL: the delivery commit of messages to group logs as one function, called in one statement
 * (storage/postgres/group-append.ts), so that a batch costs one round trip instead of a transaction of
 * seven (BEGIN, lock, duplicate check, membership check, sequence numbers, insert, COMMIT). It does
 * what the delivery service does in a transaction: lock the groups in id order (batches on several
 * nodes cannot deadlock), then, in a statement of its own (a volatile function takes a new snapshot
 * per statement, so a removal that committed while the lock was awaited is seen), answer each send
 * as a duplicate (its client message id stored already in that group), not a member, a missing group,
 * or stored at the next sequence numbers of its group, in input order. The payloads travel as one
 * bytea (binary on the wire) and their lengths, not as a bytea[] (hex text, twice the bytes, escaped
 * element by element in the client). SQLite needs none of this (it
 * runs in process, with no round trips): nothing is made there.
 */
export function pgGroupAppendMigration(dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`
CREATE OR REPLACE FUNCTION courier_append_group_messages(
  p_groups text[], p_accounts text[], p_devices text[], p_client_msg_ids text[], p_payloads bytea,
  p_lengths integer[], p_created_at bigint)
RETURNS TABLE (item_index integer, entry_seq bigint, outcome text)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  PERFORM 1 FROM groups g WHERE g.id = ANY(p_groups) ORDER BY g.id FOR UPDATE;
  RETURN QUERY
  WITH input AS (
    SELECT t.i::integer AS i, t.g, t.a, t.d, t.c,
      substring(p_payloads FROM (sum(t.len) OVER (ORDER BY t.i) - t.len + 1)::integer FOR t.len) AS p
    FROM unnest(p_groups, p_accounts, p_devices, p_client_msg_ids, p_lengths)
      WITH ORDINALITY AS t(g, a, d, c, len, i)
  ),
  judged AS (
    SELECT input.*, e.seq AS stored_seq, (m.account_id IS NOT NULL) AS member
    FROM input
    LEFT JOIN group_entries e
      ON e.sender_device_id = input.d AND e.client_msg_id = input.c AND e.group_id = input.g
    LEFT JOIN group_members m ON m.group_id = input.g AND m.account_id = input.a
  ),
  fresh AS (
    SELECT judged.*, row_number() OVER (PARTITION BY judged.g ORDER BY judged.i) AS k,
      count(*) OVER (PARTITION BY judged.g) AS n
    FROM judged WHERE judged.stored_seq IS NULL AND judged.member
  ),
  bumped AS (
    UPDATE groups SET last_seq = groups.last_seq + f.n
    FROM (SELECT DISTINCT fresh.g, fresh.n FROM fresh) AS f
    WHERE groups.id = f.g
    RETURNING groups.id, groups.last_seq
  ),
  inserted AS (
    INSERT INTO group_entries
      (group_id, seq, kind, sender_account_id, sender_device_id, client_msg_id, payload, created_at)
    SELECT f.g, b.last_seq - f.n + f.k, 'message', f.a, f.d, f.c, f.p, p_created_at
    FROM fresh f JOIN bumped b ON b.id = f.g
    RETURNING group_entries.group_id, group_entries.seq, group_entries.sender_device_id,
      group_entries.client_msg_id
  )
  SELECT j.i, COALESCE(j.stored_seq, ins.seq),
    CASE WHEN j.stored_seq IS NOT NULL THEN 'duplicate'
      WHEN NOT j.member THEN 'not_member'
      WHEN ins.seq IS NULL THEN 'not_found'
      ELSE 'stored' END
  FROM judged j
  LEFT JOIN inserted ins
    ON ins.group_id = j.g AND ins.sender_device_id = j.d AND ins.client_msg_id = j.c
  ORDER BY j.i;
END
$fn$`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`DROP FUNCTION IF EXISTS courier_append_group_messages(text[], text[], text[], text[], bytea, integer[], bigint)`.execute(
        db,
      );
    },
  };
}
