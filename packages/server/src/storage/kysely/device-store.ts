import { type Kysely, type Selectable, sql } from 'kysely';
import type { DeviceRow, DeviceStore } from '../ports.ts';
import type { Database, DevicesTable } from '../schema.ts';

const toRow = (r: Selectable<DevicesTable>): DeviceRow => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  createdAt: Number(r.created_at),
  lastSeenAt: r.last_seen_at === null ? null : Number(r.last_seen_at),
});

export class KyselyDeviceStore implements DeviceStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: DeviceRow): Promise<void> {
    await this.db
      .insertInto('devices')
      .values({
        id: row.id,
        account_id: row.accountId,
        name: row.name,
        created_at: row.createdAt,
        last_seen_at: row.lastSeenAt,
        mailbox_seq: 0,
      })
      .execute();
  }

  async byId(id: string): Promise<DeviceRow | undefined> {
    const r = await this.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRow(r);
  }

  async byAccount(accountId: string): Promise<DeviceRow[]> {
    const rows = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .execute();
    return rows.map(toRow);
  }

  async idsByAccounts(accountIds: readonly string[]): Promise<{ id: string; accountId: string }[]> {
    if (accountIds.length === 0) return [];
    return this.db
      .selectFrom('devices')
      .select(['id', 'account_id as accountId'])
      .where('account_id', 'in', accountIds)
      .execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('devices').where('id', '=', id).execute();
  }

  async touchLastSeen(ids: readonly string[], at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('devices').set({ last_seen_at: at }).where('id', 'in', ids).execute();
  }

  async allocateMailboxSeq(id: string, count: number): Promise<number> {
    const r = await this.db
      .updateTable('devices')
      .set({ mailbox_seq: sql`mailbox_seq + ${count}` })
      .where('id', '=', id)
      .returning('mailbox_seq')
      .executeTakeFirstOrThrow();
    return Number(r.mailbox_seq);
  }
}
