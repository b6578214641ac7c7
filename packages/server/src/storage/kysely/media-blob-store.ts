import { type Kysely, type Selectable, sql } from 'kysely';
import type { MediaBlobRecordStore, MediaBlobRow, MediaGrantRow } from '../ports.ts';
import type { Database, MediaBlobChatsTable, MediaBlobsTable } from '../schema.ts';

const CHUNK = 500;

const toRow = (r: Selectable<MediaBlobsTable>): MediaBlobRow => ({
  id: r.id,
  groupId: r.group_id,
  uploaderAccountId: r.uploader_account_id,
  size: Number(r.size),
  createdAt: Number(r.created_at),
  completedAt: r.completed_at === null ? null : Number(r.completed_at),
});

const toGrant = (r: Selectable<MediaBlobChatsTable>): MediaGrantRow => ({
  blobId: r.blob_id,
  groupId: r.group_id,
  grantedByAccountId: r.granted_by_account_id,
  grantedAt: Number(r.granted_at),
});

export class KyselyMediaBlobStore implements MediaBlobRecordStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: MediaBlobRow): Promise<void> {
    await this.db
      .insertInto('media_blobs')
      .values({
        id: row.id,
        group_id: row.groupId,
        uploader_account_id: row.uploaderAccountId,
        size: row.size,
        created_at: row.createdAt,
        completed_at: row.completedAt,
      })
      .execute();
  }

  async byId(id: string): Promise<MediaBlobRow | undefined> {
    const row = await this.db.selectFrom('media_blobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async markComplete(id: string, at: number): Promise<void> {
    await this.db
      .updateTable('media_blobs')
      .set({ completed_at: at })
      .where('id', '=', id)
      .where('completed_at', 'is', null)
      .execute();
  }

  async bytesOfAccount(accountId: string): Promise<number> {
    const row = await this.db
      .selectFrom('media_blobs')
      .select(sql<string | number | null>`SUM(size)`.as('total'))
      .where('uploader_account_id', '=', accountId)
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  async byAccount(accountId: string): Promise<MediaBlobRow[]> {
    const rows = await this.db
      .selectFrom('media_blobs')
      .selectAll()
      .where('uploader_account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRow);
  }

  async countInGroup(groupId: string): Promise<number> {
    const row = await this.db
      .selectFrom('media_blobs')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('group_id', '=', groupId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async incompleteBefore(before: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('media_blobs')
      .select('id')
      .where('completed_at', 'is', null)
      .where('created_at', '<', before)
      .execute();
    return rows.map((r) => r.id);
  }

  async unreferencedBefore(before: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('media_blobs as b')
      .select('b.id')
      .where('b.completed_at', 'is not', null)
      .where('b.completed_at', '<', before)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('group_entries as e')
              .select('e.seq')
              .whereRef('e.group_id', '=', 'b.group_id')
              .whereRef('e.created_at', '>=', 'b.created_at'),
          ),
        ),
      )
      // A blob bound to a channel lives as long as its post (channel-media-store.ts).
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(selectFrom('channel_media as cm').select('cm.blob_id').whereRef('cm.blob_id', '=', 'b.id')),
        ),
      )
      // A further chat keeps the blob while its grant is young or its log holds an entry from the grant on.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('media_blob_chats as g')
              .select('g.blob_id')
              .whereRef('g.blob_id', '=', 'b.id')
              .where((eb) =>
                eb.or([
                  eb('g.granted_at', '>=', before),
                  eb.exists(
                    eb
                      .selectFrom('group_entries as f')
                      .select('f.seq')
                      .whereRef('f.group_id', '=', 'g.group_id')
                      .whereRef('f.created_at', '>=', 'g.granted_at'),
                  ),
                ]),
              ),
          ),
        ),
      )
      .execute();
    return rows.map((r) => r.id);
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      const part = ids.slice(i, i + CHUNK);
      await this.db.deleteFrom('media_blob_chats').where('blob_id', 'in', part).execute();
      await this.db.deleteFrom('media_blobs').where('id', 'in', part).execute();
    }
  }

  async grant(row: MediaGrantRow): Promise<boolean> {
    const result = await this.db
      .insertInto('media_blob_chats')
      .values({
        blob_id: row.blobId,
        group_id: row.groupId,
        granted_by_account_id: row.grantedByAccountId,
        granted_at: row.grantedAt,
      })
      .onConflict((oc) => oc.columns(['blob_id', 'group_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async grantsOf(blobId: string): Promise<MediaGrantRow[]> {
    const rows = await this.db
      .selectFrom('media_blob_chats')
      .selectAll()
      .where('blob_id', '=', blobId)
      .orderBy('granted_at')
      .orderBy('group_id')
      .execute();
    return rows.map(toGrant);
  }

  async grantsBy(accountId: string): Promise<MediaGrantRow[]> {
    const rows = await this.db
      .selectFrom('media_blob_chats')
      .selectAll()
      .where('granted_by_account_id', '=', accountId)
      .orderBy('granted_at')
      .orderBy('blob_id')
      .execute();
    return rows.map(toGrant);
  }

  async deleteGrantsBy(accountId: string): Promise<number> {
    const result = await this.db
      .deleteFrom('media_blob_chats')
      .where('granted_by_account_id', '=', accountId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
