import { type Kysely, type Selectable, sql } from 'kysely';
import type { ChannelPostRow, ChannelPostStore } from '../ports.ts';
import type { ChannelPostsTable, Database } from '../schema.ts';
import { byteBoundedPage } from './byte-bounded-page.ts';

const bytes = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const toRow = (r: Selectable<ChannelPostsTable>): ChannelPostRow => ({
  channelId: r.channel_id,
  seq: Number(r.seq),
  firstSeq: Number(r.first_seq),
  postId: r.post_id,
  revision: Number(r.revision),
  deleted: Number(r.deleted) === 1,
  payload: bytes(r.payload),
  signature: bytes(r.signature),
  authorAccountId: r.author_account_id,
  createdAt: Number(r.created_at),
  editedAt: r.edited_at === null ? null : Number(r.edited_at),
  views: Number(r.views),
});

/** A channel's posts: one row per post (its newest revision), in sequence order. */
export class KyselyChannelPostStore implements ChannelPostStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ChannelPostRow): Promise<void> {
    await this.db
      .insertInto('channel_posts')
      .values({
        channel_id: row.channelId,
        seq: row.seq,
        first_seq: row.firstSeq,
        post_id: row.postId,
        revision: row.revision,
        deleted: row.deleted ? 1 : 0,
        payload: row.payload,
        signature: row.signature,
        author_account_id: row.authorAccountId,
        created_at: row.createdAt,
        edited_at: row.editedAt,
        views: row.views,
      })
      .execute();
  }

  async byPostId(channelId: string, postId: string): Promise<ChannelPostRow | undefined> {
    const row = await this.db
      .selectFrom('channel_posts')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('post_id', '=', postId)
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async revise(
    channelId: string,
    postId: string,
    change: Pick<ChannelPostRow, 'seq' | 'revision' | 'deleted' | 'payload' | 'signature' | 'editedAt'>,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('channel_posts')
      .set({
        seq: change.seq,
        revision: change.revision,
        deleted: change.deleted ? 1 : 0,
        payload: change.payload,
        signature: change.signature,
        edited_at: change.editedAt,
      })
      .where('channel_id', '=', channelId)
      .where('post_id', '=', postId)
      .where('revision', '<', change.revision)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async range(
    channelId: string,
    afterSeq: number,
    limit: number,
    maxBytes?: number,
  ): Promise<ChannelPostRow[]> {
    const page = this.db
      .selectFrom('channel_posts')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit);
    const rows =
      maxBytes === undefined ? await page.execute() : await byteBoundedPage(this.db, page, maxBytes);
    return rows.map(toRow);
  }

  async countViews(channelId: string, afterSeq: number, upToSeq: number, views = 1): Promise<void> {
    if (upToSeq <= afterSeq || views <= 0) return;
    await this.db
      .updateTable('channel_posts')
      .set({ views: sql`views + ${views}` })
      .where('channel_id', '=', channelId)
      .where('first_seq', '>', afterSeq)
      .where('first_seq', '<=', upToSeq)
      .execute();
  }

  async byAuthor(accountId: string): Promise<ChannelPostRow[]> {
    const rows = await this.db
      .selectFrom('channel_posts')
      .selectAll()
      .where('author_account_id', '=', accountId)
      .orderBy('channel_id')
      .orderBy('seq')
      .execute();
    return rows.map(toRow);
  }

  async deleteByChannel(channelId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('channel_posts')
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async forgetAuthor(accountId: string): Promise<number> {
    const r = await this.db
      .updateTable('channel_posts')
      .set({ author_account_id: null })
      .where('author_account_id', '=', accountId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
