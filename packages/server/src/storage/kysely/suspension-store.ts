import type { Kysely, Selectable } from 'kysely';
import type { SuspensionRow, SuspensionRowState, SuspensionStore } from '../ports.ts';
import type { AccountSuspensionsTable, Database } from '../schema.ts';

const toRow = (r: Selectable<AccountSuspensionsTable>): SuspensionRow => ({
  accountId: r.account_id,
  state: r.state as SuspensionRowState,
  reportId: r.report_id,
  proposedBy: r.proposed_by,
  proposedAt: Number(r.proposed_at),
  suspendedAt: r.suspended_at === null ? null : Number(r.suspended_at),
  version: Number(r.version),
});

export class KyselySuspensionStore implements SuspensionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async byAccount(accountId: string): Promise<SuspensionRow | undefined> {
    const r = await this.db
      .selectFrom('account_suspensions')
      .selectAll()
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return r && toRow(r);
  }

  async list(): Promise<SuspensionRow[]> {
    const rows = await this.db
      .selectFrom('account_suspensions')
      .selectAll()
      .orderBy('proposed_at', 'desc')
      .orderBy('account_id')
      .execute();
    return rows.map(toRow);
  }

  async put(row: SuspensionRow, expectedVersion: number | undefined): Promise<boolean> {
    const values = {
      state: row.state,
      report_id: row.reportId,
      proposed_by: row.proposedBy,
      proposed_at: row.proposedAt,
      suspended_at: row.suspendedAt,
      version: row.version,
    };
    if (expectedVersion === undefined) {
      const r = await this.db
        .insertInto('account_suspensions')
        .values({ account_id: row.accountId, ...values })
        .onConflict((oc) => oc.column('account_id').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    }
    const r = await this.db
      .updateTable('account_suspensions')
      .set(values)
      .where('account_id', '=', row.accountId)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(accountId: string, expectedVersion: number): Promise<boolean> {
    const r = await this.db
      .deleteFrom('account_suspensions')
      .where('account_id', '=', accountId)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async rememberSessions(accountId: string, tokenHashes: readonly string[]): Promise<void> {
    if (tokenHashes.length === 0) return;
    await this.db
      .insertInto('suspended_sessions')
      .values(tokenHashes.map((token_hash) => ({ token_hash, account_id: accountId })))
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .execute();
  }

  async suspendedSession(tokenHash: string): Promise<string | undefined> {
    const r = await this.db
      .selectFrom('suspended_sessions')
      .select('account_id')
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return r?.account_id;
  }

  async forgetSessions(accountId: string): Promise<void> {
    await this.db.deleteFrom('suspended_sessions').where('account_id', '=', accountId).execute();
  }
}
