import { type Kysely, type Selectable, sql } from 'kysely';
import type { ChannelRow, ChannelStore } from '../ports.ts';
import type { ChannelsTable, Database } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const CHUNK = 500;

const bytes = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const toRow = (r: Selectable<ChannelsTable>): ChannelRow => ({
  id: r.id,
  name: r.name,
  title: r.title,
  description: r.description,
  visibility: r.visibility as ChannelRow['visibility'],
  ownerAccountId: r.owner_account_id,
  publicKey: bytes(r.public_key),
  createdAt: Number(r.created_at),
  lastSeq: Number(r.last_seq),
  subscriberCount: Number(r.subscriber_count),
});

/** Channels and their admins (one table family). */
export class KyselyChannelStore implements ChannelStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ChannelRow): Promise<boolean> {
    try {
      await this.db
        .insertInto('channels')
        .values({
          id: row.id,
          name: row.name,
          title: row.title,
          description: row.description,
          visibility: row.visibility,
          owner_account_id: row.ownerAccountId,
          public_key: row.publicKey,
          created_at: row.createdAt,
          last_seq: row.lastSeq,
          subscriber_count: row.subscriberCount,
        })
        .execute();
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async byId(id: string): Promise<ChannelRow | undefined> {
    const row = await this.db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async byName(name: string): Promise<ChannelRow | undefined> {
    const row = await this.db.selectFrom('channels').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async byIds(ids: readonly string[]): Promise<ChannelRow[]> {
    const out: ChannelRow[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom('channels')
        .selectAll()
        .where('id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      out.push(...rows.map(toRow));
    }
    return out;
  }

  async ownedBy(accountId: string): Promise<ChannelRow[]> {
    const rows = await this.db
      .selectFrom('channels')
      .selectAll()
      .where('owner_account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRow);
  }

  async nextSeq(id: string): Promise<number> {
    const r = await this.db
      .updateTable('channels')
      .set({ last_seq: sql`last_seq + 1` })
      .where('id', '=', id)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    return Number(r.last_seq);
  }

  async adjustSubscriberCount(id: string, delta: number): Promise<void> {
    await this.db
      .updateTable('channels')
      .set({ subscriber_count: sql`subscriber_count + ${delta}` })
      .where('id', '=', id)
      .execute();
  }

  async setInfo(id: string, info: { title: string; description: string }): Promise<boolean> {
    const r = await this.db
      .updateTable('channels')
      .set({ title: info.title, description: info.description })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async addAdmin(channelId: string, accountId: string, at: number): Promise<void> {
    await this.db
      .insertInto('channel_admins')
      .values({ channel_id: channelId, account_id: accountId, added_at: at })
      .onConflict((oc) => oc.columns(['channel_id', 'account_id']).doNothing())
      .execute();
  }

  async removeAdmin(channelId: string, accountId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('channel_admins')
      .where('channel_id', '=', channelId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async isAdmin(channelId: string, accountId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('channel_admins')
      .select('account_id')
      .where('channel_id', '=', channelId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async admins(channelId: string): Promise<{ accountId: string; addedAt: number }[]> {
    const rows = await this.db
      .selectFrom('channel_admins')
      .select(['account_id', 'added_at'])
      .where('channel_id', '=', channelId)
      .orderBy('added_at')
      .orderBy('account_id')
      .execute();
    return rows.map((r) => ({ accountId: r.account_id, addedAt: Number(r.added_at) }));
  }

  async adminOf(accountId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('channel_admins')
      .select('channel_id')
      .where('account_id', '=', accountId)
      .orderBy('channel_id')
      .execute();
    return rows.map((r) => r.channel_id);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('channel_admins').where('channel_id', '=', id).execute();
    await this.db.deleteFrom('channels').where('id', '=', id).execute();
  }

  async deleteAdminsByAccount(accountId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('channel_admins')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
