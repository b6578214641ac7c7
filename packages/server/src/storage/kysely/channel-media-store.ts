import type { Kysely, Selectable } from 'kysely';
import type { ChannelMediaRow, ChannelMediaStore } from '../ports.ts';
import type { ChannelMediaTable, Database } from '../schema.ts';

const CHUNK = 500;

const toRow = (r: Selectable<ChannelMediaTable>): ChannelMediaRow => ({
  blobId: r.blob_id,
  channelId: r.channel_id,
  postId: r.post_id,
  boundAt: Number(r.bound_at),
});

export class KyselyChannelMediaStore implements ChannelMediaStore {
  constructor(private readonly db: Kysely<Database>) {}

  async bind(row: ChannelMediaRow): Promise<void> {
    await this.db
      .insertInto('channel_media')
      .values({ blob_id: row.blobId, channel_id: row.channelId, post_id: row.postId, bound_at: row.boundAt })
      .execute();
  }

  async byBlob(blobId: string): Promise<ChannelMediaRow | undefined> {
    const row = await this.db
      .selectFrom('channel_media')
      .selectAll()
      .where('blob_id', '=', blobId)
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async claim(channelId: string, blobId: string, postId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('channel_media')
      .set({ post_id: postId })
      .where('blob_id', '=', blobId)
      .where('channel_id', '=', channelId)
      .where((eb) => eb.or([eb('post_id', 'is', null), eb('post_id', '=', postId)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async byPost(channelId: string, postId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('channel_media')
      .select('blob_id')
      .where('channel_id', '=', channelId)
      .where('post_id', '=', postId)
      .orderBy('blob_id')
      .execute();
    return rows.map((r) => r.blob_id);
  }

  async byChannel(channelId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('channel_media')
      .select('blob_id')
      .where('channel_id', '=', channelId)
      .orderBy('blob_id')
      .execute();
    return rows.map((r) => r.blob_id);
  }

  async unclaimedBefore(before: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('channel_media')
      .select('blob_id')
      .where('post_id', 'is', null)
      .where('bound_at', '<', before)
      .orderBy('blob_id')
      .execute();
    return rows.map((r) => r.blob_id);
  }

  async release(blobIds: readonly string[]): Promise<void> {
    for (let i = 0; i < blobIds.length; i += CHUNK) {
      await this.db
        .deleteFrom('channel_media')
        .where('blob_id', 'in', blobIds.slice(i, i + CHUNK))
        .execute();
    }
  }
}
