import { type Kysely, sql } from 'kysely';
import type { CursorStore, CursorUpdate } from '../ports.ts';
import type { Database } from '../schema.ts';

const CHUNK = 500;

export class KyselyCursorStore implements CursorStore {
  constructor(private readonly db: Kysely<Database>) {}

  async advance(batch: readonly CursorUpdate[]): Promise<void> {
    // One row per cursor, the highest position (PostgreSQL refuses to update a row twice in one statement).
    const highest = new Map<string, CursorUpdate>();
    for (const u of batch) {
      const key = `${u.deviceId} ${u.groupId}`;
      if ((highest.get(key)?.ackedSeq ?? -1) < u.ackedSeq) highest.set(key, u);
    }
    const updates = [...highest.values()];
    for (let i = 0; i < updates.length; i += CHUNK) {
      const rows = updates
        .slice(i, i + CHUNK)
        .map((u) => sql`(${u.deviceId}, ${u.groupId}, CAST(${u.ackedSeq} AS bigint))`);
      // A device without a cursor row stands just before its join (joined_seq - 1): an ack below
      // that must not create a row behind it, or the device would be sent entries from before it
      // joined. "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint.
      await sql`
        INSERT INTO device_cursors (device_id, group_id, acked_seq)
        SELECT v.column1, v.column2,
          CASE WHEN m.joined_seq IS NULL OR v.column3 >= m.joined_seq - 1 THEN v.column3 ELSE m.joined_seq - 1 END
        FROM (VALUES ${sql.join(rows)}) AS v
        LEFT JOIN devices d ON d.id = v.column1
        LEFT JOIN group_members m ON m.group_id = v.column2 AND m.account_id = d.account_id
        WHERE true
        ON CONFLICT (device_id, group_id) DO UPDATE SET acked_seq = excluded.acked_seq
          WHERE device_cursors.acked_seq < excluded.acked_seq`.execute(this.db);
    }
  }

  async start(deviceIds: readonly string[], groupId: string, ackedSeq: number): Promise<void> {
    for (let i = 0; i < deviceIds.length; i += CHUNK) {
      await this.db
        .insertInto('device_cursors')
        .values(
          deviceIds
            .slice(i, i + CHUNK)
            .map((deviceId) => ({ device_id: deviceId, group_id: groupId, acked_seq: ackedSeq })),
        )
        .onConflict((oc) => oc.columns(['device_id', 'group_id']).doUpdateSet({ acked_seq: ackedSeq }))
        .execute();
    }
  }

  async deleteForGroup(groupId: string, deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.db
      .deleteFrom('device_cursors')
      .where('group_id', '=', groupId)
      .where('device_id', 'in', deviceIds)
      .execute();
  }
}
