import type { Kysely, Selectable } from 'kysely';
import type { InvitationRow, InvitationStore } from '../ports.ts';
import type { Database, GroupInvitationsTable } from '../schema.ts';

const toRow = (r: Selectable<GroupInvitationsTable>): InvitationRow => ({
  groupId: r.group_id,
  accountId: r.account_id,
  inviterId: r.inviter_id,
  createdAt: Number(r.created_at),
});

export class KyselyInvitationStore implements InvitationStore {
  constructor(private readonly db: Kysely<Database>) {}

  async put(rows: readonly InvitationRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await this.db
        .insertInto('group_invitations')
        .values(
          rows.slice(i, i + 500).map((r) => ({
            group_id: r.groupId,
            account_id: r.accountId,
            inviter_id: r.inviterId,
            created_at: r.createdAt,
          })),
        )
        .onConflict((oc) => oc.columns(['group_id', 'account_id']).doNothing())
        .execute();
    }
  }

  async get(groupId: string, accountId: string): Promise<InvitationRow | undefined> {
    const r = await this.db
      .selectFrom('group_invitations')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return r && toRow(r);
  }

  async forAccount(accountId: string): Promise<InvitationRow[]> {
    const rows = await this.db
      .selectFrom('group_invitations')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('group_id')
      .execute();
    return rows.map(toRow);
  }

  async sentBy(inviterId: string): Promise<InvitationRow[]> {
    const rows = await this.db
      .selectFrom('group_invitations')
      .selectAll()
      .where('inviter_id', '=', inviterId)
      .orderBy('created_at')
      .orderBy('group_id')
      .orderBy('account_id')
      .execute();
    return rows.map(toRow);
  }

  async delete(groupId: string, accountId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('group_invitations')
      .where('group_id', '=', groupId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteByAccount(accountId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('group_invitations')
      .where((eb) => eb.or([eb('account_id', '=', accountId), eb('inviter_id', '=', accountId)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
