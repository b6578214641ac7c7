import type pg from 'pg';
import type { GroupAppendOutcome, GroupMessageAppend } from '../ports.ts';

/**
 * The delivery commit of group messages on PostgreSQL as one statement: the function of migration 021
 * (courier_append_group_messages) locks the groups, checks duplicates and membership, allocates the
 * sequence numbers and inserts, in one round trip and one implicit transaction, committed when the
 * reply arrives. A named statement: each pooled connection parses and plans it once.
 */
const APPEND = {
  name: 'courier_append_group_messages',
  text: `SELECT item_index, entry_seq, outcome FROM courier_append_group_messages(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::bytea, $6::integer[], $7::bigint)`,
};

/** Rows per call: each array parameter stays well below what one message to the server holds. */
const CHUNK = 2000;

export async function appendGroupMessages(
  pool: pg.Pool,
  appends: readonly GroupMessageAppend[],
  now: number,
): Promise<GroupAppendOutcome[]> {
  const outcomes: GroupAppendOutcome[] = [];
  // Chunks commit one by one: each append's outcome is final when its chunk's reply arrives.
  for (let start = 0; start < appends.length; start += CHUNK) {
    const chunk = appends.slice(start, start + CHUNK);
    const column = <T>(pick: (a: GroupMessageAppend) => T) => chunk.map(pick);
    const { rows } = await pool.query<{
      item_index: number;
      entry_seq: number | string | null;
      outcome: string;
    }>({
      ...APPEND,
      values: [
        column((a) => a.groupId),
        column((a) => a.senderAccountId),
        column((a) => a.senderDeviceId),
        column((a) => a.clientMsgId),
        // The payloads as one buffer (sent binary) and each one's length.
        Buffer.concat(column((a) => a.payload)),
        column((a) => a.payload.byteLength),
        now,
      ],
    });
    if (rows.length !== chunk.length)
      throw new Error(`courier_append_group_messages answered ${rows.length} of ${chunk.length} appends`);
    for (const row of rows) outcomes.push(outcomeOf(row.outcome, row.entry_seq));
  }
  return outcomes;
}

function outcomeOf(outcome: string, seq: number | string | null): GroupAppendOutcome {
  switch (outcome) {
    case 'stored':
    case 'duplicate':
      return { kind: outcome, seq: Number(seq) };
    case 'not_member':
      return { kind: 'not_member' };
    case 'not_found':
      return { kind: 'group_not_found' };
    default:
      throw new Error(`courier_append_group_messages answered an unknown outcome: ${outcome}`);
  }
}
