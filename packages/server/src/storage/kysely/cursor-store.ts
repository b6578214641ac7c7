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
      await this.db
        .insertInto('device_cursors')
        .values(
          updates
            .slice(i, i + CHUNK)
            .map((u) => ({ device_id: u.deviceId, group_id: u.groupId, acked_seq: u.ackedSeq })),
        )
        .onConflict((oc) =>
          oc
            .columns(['device_id', 'group_id'])
            .doUpdateSet({ acked_seq: sql`excluded.acked_seq` })
            .where('device_cursors.acked_seq', '<', sql<number>`excluded.acked_seq`),
        )
        .execute();
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
