import { type Kysely, sql } from 'kysely';
import type { ConnectionRecord, ConnectionStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class KyselyConnectionStore implements ConnectionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async record(records: readonly ConnectionRecord[]): Promise<void> {
    // One row per (device, ip): first_seen stays, last_seen moves forward.
    const latest = new Map<string, ConnectionRecord>();
    for (const r of records) latest.set(`${r.deviceId} ${r.ip}`, r);
    if (latest.size === 0) return;
    await this.db
      .insertInto('connections')
      .values(
        [...latest.values()].map((r) => ({
          device_id: r.deviceId,
          ip: r.ip,
          account_id: r.accountId,
          first_seen: r.at,
          last_seen: r.at,
        })),
      )
      .onConflict((oc) => oc.columns(['device_id', 'ip']).doUpdateSet({ last_seen: sql`excluded.last_seen` }))
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
