import { type Kysely, sql } from 'kysely';
import type { MlsGroupStore, MlsLeafRow } from '../ports.ts';
import type { Database } from '../schema.ts';

const CHUNK = 400;

export class KyselyMlsGroupStore implements MlsGroupStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(groupId: string, creator: { accountId: string; deviceId: string }): Promise<void> {
    await this.db.insertInto('mls_groups').values({ group_id: groupId, epoch: 0 }).execute();
    await this.insertLeaves([{ groupId, leafIndex: 0, ...creator }]);
  }

  async epoch(groupId: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('mls_groups')
      .select('epoch')
      .where('group_id', '=', groupId)
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.epoch);
  }

  async setEpoch(groupId: string, epoch: number): Promise<void> {
    await this.db.updateTable('mls_groups').set({ epoch }).where('group_id', '=', groupId).execute();
  }

  async leaves(groupId: string): Promise<MlsLeafRow[]> {
    const rows = await this.db
      .selectFrom('mls_leaves')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('leaf_index')
      .execute();
    return rows.map((r) => ({
      groupId: r.group_id,
      leafIndex: Number(r.leaf_index),
      accountId: r.account_id,
      deviceId: r.device_id,
    }));
  }

  async removeLeaves(groupId: string, leafIndexes: readonly number[]): Promise<void> {
    for (let i = 0; i < leafIndexes.length; i += CHUNK) {
      await this.db
        .deleteFrom('mls_leaves')
        .where('group_id', '=', groupId)
        .where('leaf_index', 'in', leafIndexes.slice(i, i + CHUNK))
        .execute();
    }
  }

  async insertLeaves(rows: readonly MlsLeafRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      await this.db
        .insertInto('mls_leaves')
        .values(
          rows.slice(i, i + CHUNK).map((r) => ({
            group_id: r.groupId,
            leaf_index: r.leafIndex,
            account_id: r.accountId,
            device_id: r.deviceId,
          })),
        )
        .execute();
    }
  }

  async putTree(groupId: string, epoch: number, tree: Uint8Array, at: number): Promise<void> {
    await this.db
      .insertInto('mls_trees')
      .values({ group_id: groupId, epoch, tree, created_at: at })
      .onConflict((oc) => oc.columns(['group_id', 'epoch']).doNothing())
      .execute();
  }

  async tree(groupId: string, epoch: number): Promise<Uint8Array | undefined> {
    const row = await this.db
      .selectFrom('mls_trees')
      .select('tree')
      .where('group_id', '=', groupId)
      .where('epoch', '=', epoch)
      .executeTakeFirst();
    return row && new Uint8Array(row.tree.buffer, row.tree.byteOffset, row.tree.byteLength);
  }

  async pruneTrees(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('mls_trees as t')
      .where('t.created_at', '<', before)
      .where(
        't.epoch',
        '<',
        sql<number>`(SELECT MAX(n.epoch) FROM mls_trees n WHERE n.group_id = t.group_id)`,
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
