import { type RawBuilder, type SqlBool, sql } from 'kysely';
import type { ClientKey, StoredSend } from '../ports.ts';

const CHUNK = 400;

type Row = { sender_device_id: string; client_msg_id: string; target: string; seq: number | string };

/**
 * `(sender_device_id, client_msg_id) IN (VALUES (…), …)`: one probe of the idempotency index per
 * key, in one statement (SQLite and PostgreSQL both take a row value against a VALUES list).
 */
export function clientKeyIn(keys: readonly ClientKey[]): RawBuilder<SqlBool> {
  return sql<SqlBool>`(sender_device_id, client_msg_id) IN (VALUES ${sql.join(
    keys.map((k) => sql`(${k.senderDeviceId}, ${k.clientMsgId})`),
  )})`;
}

/** Looks up client keys in chunks and returns where each was stored. */
export async function findStoredSends(
  keys: readonly ClientKey[],
  query: (chunk: readonly ClientKey[]) => Promise<Row[]>,
): Promise<StoredSend[]> {
  const found: StoredSend[] = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    for (const r of await query(keys.slice(i, i + CHUNK))) {
      found.push({
        senderDeviceId: r.sender_device_id,
        clientMsgId: r.client_msg_id,
        target: r.target,
        seq: Number(r.seq),
      });
    }
  }
  return found;
}
