import { type Kysely, sql } from 'kysely';
import type { ConnectionRecord, ConnectionStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class KyselyConnectionStore implements ConnectionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async record(records: readonly ConnectionRecord[]): Promise<void> {
    // One row per (device, ip): the earliest sighting is the first, the latest the last, whatever
    // order sightings arrive in (nodes' clocks differ, batches commit late).
    const seen = new Map<string, { record: ConnectionRecord; first: number; last: number }>();
    for (const r of records) {
      const key = `${r.deviceId} ${r.ip}`;
      const known = seen.get(key);
      seen.set(key, {
        record: r,
        first: Math.min(known?.first ?? r.at, r.at),
        last: Math.max(known?.last ?? r.at, r.at),
      });
    }
    if (seen.size === 0) return;
    await this.db
      .insertInto('connections')
      .values(
        [...seen.values()].map(({ record: r, first, last }) => ({
          device_id: r.deviceId,
          ip: r.ip,
          account_id: r.accountId,
          first_seen: first,
          last_seen: last,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['device_id', 'ip']).doUpdateSet({
          first_seen: sql`CASE WHEN excluded.first_seen < connections.first_seen THEN excluded.first_seen ELSE connections.first_seen END`,
          last_seen: sql`CASE WHEN excluded.last_seen > connections.last_seen THEN excluded.last_seen ELSE connections.last_seen END`,
        }),
      )
      .execute();
  }

  async byAccount(accountId: string): Promise<ConnectionRecord[]> {
    return (await this.detailsByAccount(accountId)).map(({ firstSeen: _first, ...record }) => record);
  }

  async detailsByAccount(accountId: string): Promise<(ConnectionRecord & { firstSeen: number })[]> {
    const rows = await this.db
      .selectFrom('connections')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('first_seen')
      .execute();
    return rows.map((r) => ({
      deviceId: r.device_id,
      accountId: r.account_id,
      ip: r.ip,
      at: Number(r.last_seen),
      firstSeen: Number(r.first_seen),
    }));
  }

  async deleteByAccount(accountId: string): Promise<number> {
    const r = await this.db.deleteFrom('connections').where('account_id', '=', accountId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteOlderThan(before: number): Promise<number> {
    const r = await this.db.deleteFrom('connections').where('last_seen', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
