import type { Kysely, Selectable } from 'kysely';
import type { ChannelSubscriptionRow, ChannelSubscriptionStore } from '../ports.ts';
import type { ChannelSubscriptionsTable, Database } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const toRow = (r: Selectable<ChannelSubscriptionsTable>): ChannelSubscriptionRow => ({
  accountId: r.account_id,
  channelId: r.channel_id,
  cursor: Number(r.cursor),
  subscribedAt: Number(r.subscribed_at),
});

/** Accounts per statement of a batch (well below SQLite's and PostgreSQL's limits on parameters). */
const CHUNK = 2000;

/** Subscriptions: (account, channel, cursor), and nothing about which posts were read. */
export class KyselyChannelSubscriptionStore implements ChannelSubscriptionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ChannelSubscriptionRow): Promise<boolean> {
    try {
      const r = await this.db
        .insertInto('channel_subscriptions')
        .values({
          account_id: row.accountId,
          channel_id: row.channelId,
          cursor: row.cursor,
          subscribed_at: row.subscribedAt,
        })
        .onConflict((oc) => oc.columns(['account_id', 'channel_id']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async get(accountId: string, channelId: string): Promise<ChannelSubscriptionRow | undefined> {
    const row = await this.db
      .selectFrom('channel_subscriptions')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async byAccount(accountId: string): Promise<ChannelSubscriptionRow[]> {
    const rows = await this.db
      .selectFrom('channel_subscriptions')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('subscribed_at')
      .orderBy('channel_id')
      .execute();
    return rows.map(toRow);
  }

  async advance(accountId: string, channelId: string, from: number, to: number): Promise<boolean> {
    if (to <= from) return false;
    const r = await this.db
      .updateTable('channel_subscriptions')
      .set({ cursor: to })
      .where('account_id', '=', accountId)
      .where('channel_id', '=', channelId)
      .where('cursor', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async cursorsOf(channelId: string, accountIds: readonly string[]): Promise<Map<string, number>> {
    const cursors = new Map<string, number>();
    for (let i = 0; i < accountIds.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom('channel_subscriptions')
        .select(['account_id', 'cursor'])
        .where('channel_id', '=', channelId)
        .where('account_id', 'in', accountIds.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) cursors.set(r.account_id, Number(r.cursor));
    }
    return cursors;
  }

  async advanceMany(
    channelId: string,
    accountIds: readonly string[],
    from: number,
    to: number,
  ): Promise<string[]> {
    if (to <= from) return [];
    const moved: string[] = [];
    for (let i = 0; i < accountIds.length; i += CHUNK) {
      const rows = await this.db
        .updateTable('channel_subscriptions')
        .set({ cursor: to })
        .where('channel_id', '=', channelId)
        .where('cursor', '=', from)
        .where('account_id', 'in', accountIds.slice(i, i + CHUNK))
        .returning('account_id')
        .execute();
      for (const r of rows) moved.push(r.account_id);
    }
    return moved;
  }

  async delete(accountId: string, channelId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('channel_subscriptions')
      .where('account_id', '=', accountId)
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteByChannel(channelId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('channel_subscriptions')
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteByAccount(accountId: string): Promise<ChannelSubscriptionRow[]> {
    const rows = await this.db
      .deleteFrom('channel_subscriptions')
      .where('account_id', '=', accountId)
      .returningAll()
      .execute();
    return rows.map(toRow);
  }
}
