import type { Kysely } from 'kysely';
import type { BlockRow, BlockStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class KyselyBlockStore implements BlockStore {
  constructor(private readonly db: Kysely<Database>) {}

  async put(row: BlockRow): Promise<void> {
    await this.db
      .insertInto('blocks')
      .values({ blocker_id: row.blockerId, blocked_id: row.blockedId, created_at: row.createdAt })
      .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
      .execute();
  }

  async delete(blockerId: string, blockedId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('blocks')
      .where('blocker_id', '=', blockerId)
      .where('blocked_id', '=', blockedId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async isBlocked(blockerId: string, blockedId: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('blocks')
      .select('created_at')
      .where('blocker_id', '=', blockerId)
      .where('blocked_id', '=', blockedId)
      .executeTakeFirst();
    return r !== undefined;
  }

  async byBlocker(blockerId: string): Promise<BlockRow[]> {
    const rows = await this.db
      .selectFrom('blocks')
      .selectAll()
      .where('blocker_id', '=', blockerId)
      .orderBy('created_at')
      .orderBy('blocked_id')
      .execute();
    return rows.map((r) => ({
      blockerId: r.blocker_id,
      blockedId: r.blocked_id,
      createdAt: Number(r.created_at),
    }));
  }

  async blockersAmong(blockedId: string, accountIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (let i = 0; i < accountIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('blocks')
        .select('blocker_id')
        .where('blocked_id', '=', blockedId)
        .where('blocker_id', 'in', accountIds.slice(i, i + 500))
        .execute();
      for (const r of rows) found.push(r.blocker_id);
    }
    return found;
  }

  async deleteByAccount(accountId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('blocks')
      .where((eb) => eb.or([eb('blocker_id', '=', accountId), eb('blocked_id', '=', accountId)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
