import type { Kysely, Selectable } from 'kysely';
import type { ChannelInviteRow, ChannelInviteStore } from '../ports.ts';
import type { ChannelInvitesTable, Database } from '../schema.ts';

const toRow = (r: Selectable<ChannelInvitesTable>): ChannelInviteRow => ({
  id: r.id,
  channelId: r.channel_id,
  tokenHash: r.token_hash,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

/** Invite links of channels, by the hash of their token. */
export class KyselyChannelInviteStore implements ChannelInviteStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ChannelInviteRow): Promise<void> {
    await this.db
      .insertInto('channel_invites')
      .values({
        id: row.id,
        channel_id: row.channelId,
        token_hash: row.tokenHash,
        created_by: row.createdBy,
        created_at: row.createdAt,
        revoked_at: row.revokedAt,
      })
      .execute();
  }

  async byTokenHash(tokenHash: string): Promise<ChannelInviteRow | undefined> {
    const row = await this.db
      .selectFrom('channel_invites')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async byChannel(channelId: string): Promise<ChannelInviteRow[]> {
    const rows = await this.db
      .selectFrom('channel_invites')
      .selectAll()
      .where('channel_id', '=', channelId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRow);
  }

  async revoke(channelId: string, id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('channel_invites')
      .set({ revoked_at: at })
      .where('channel_id', '=', channelId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deleteByChannel(channelId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('channel_invites')
      .where('channel_id', '=', channelId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async forgetCreator(accountId: string): Promise<number> {
    const r = await this.db
      .updateTable('channel_invites')
      .set({ created_by: null })
      .where('created_by', '=', accountId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
