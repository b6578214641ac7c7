import type { Kysely, Selectable } from 'kysely';
import type { ReportFilter, ReportItem, ReportRow, ReportState, ReportStore } from '../ports.ts';
import type { Database, ReportsTable } from '../schema.ts';

const toRow = (r: Selectable<ReportsTable>): ReportRow => ({
  id: r.id,
  reporterAccountId: r.reporter_account_id,
  reportedAccountId: r.reported_account_id,
  chatId: r.chat_id,
  reason: r.reason,
  comment: r.comment,
  messages: JSON.parse(r.messages) as ReportItem[],
  createdAt: Number(r.created_at),
  state: r.state as ReportState,
  handledBy: r.handled_by,
  handledAt: r.handled_at === null ? null : Number(r.handled_at),
});

export class KyselyReportStore implements ReportStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ReportRow): Promise<void> {
    await this.db
      .insertInto('reports')
      .values({
        id: row.id,
        reporter_account_id: row.reporterAccountId,
        reported_account_id: row.reportedAccountId,
        chat_id: row.chatId,
        reason: row.reason,
        comment: row.comment,
        messages: JSON.stringify(row.messages),
        created_at: row.createdAt,
        state: row.state,
        handled_by: row.handledBy,
        handled_at: row.handledAt,
      })
      .execute();
  }

  async byId(id: string): Promise<ReportRow | undefined> {
    const r = await this.db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRow(r);
  }

  async list(filter: ReportFilter): Promise<ReportRow[]> {
    let query = this.db.selectFrom('reports').selectAll();
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    if (filter.reportedAccountId !== undefined)
      query = query.where('reported_account_id', '=', filter.reportedAccountId);
    if (filter.reason !== undefined) query = query.where('reason', '=', filter.reason);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .execute();
    return rows.map(toRow);
  }

  async byReporter(accountId: string): Promise<ReportRow[]> {
    const rows = await this.db
      .selectFrom('reports')
      .selectAll()
      .where('reporter_account_id', '=', accountId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toRow);
  }

  async markHandled(id: string, staffId: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('reports')
      .set({ state: 'handled', handled_by: staffId, handled_at: at })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deleteOlderThan(before: number): Promise<number> {
    const r = await this.db.deleteFrom('reports').where('created_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
