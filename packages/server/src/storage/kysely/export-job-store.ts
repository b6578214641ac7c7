import type { Kysely, Selectable } from 'kysely';
import type { ExportJobRow, ExportJobState, ExportJobStore } from '../ports.ts';
import type { Database, ExportJobsTable } from '../schema.ts';

const num = (v: number | null) => (v === null ? null : Number(v));

const toRow = (r: Selectable<ExportJobsTable>): ExportJobRow => ({
  id: r.id,
  accountId: r.account_id,
  state: r.state as ExportJobState,
  progress: Number(r.progress),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  finishedAt: num(r.finished_at),
  file: r.file,
  bytes: num(r.bytes),
  expiresAt: num(r.expires_at),
  error: r.error,
});

type Change = Partial<Omit<ExportJobRow, 'id' | 'accountId' | 'createdAt'>>;

const columns = (c: Change): Partial<ExportJobsTable> => ({
  ...(c.state === undefined ? {} : { state: c.state }),
  ...(c.progress === undefined ? {} : { progress: c.progress }),
  ...(c.updatedAt === undefined ? {} : { updated_at: c.updatedAt }),
  ...(c.finishedAt === undefined ? {} : { finished_at: c.finishedAt }),
  ...(c.file === undefined ? {} : { file: c.file }),
  ...(c.bytes === undefined ? {} : { bytes: c.bytes }),
  ...(c.expiresAt === undefined ? {} : { expires_at: c.expiresAt }),
  ...(c.error === undefined ? {} : { error: c.error }),
});

export class KyselyExportJobStore implements ExportJobStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ExportJobRow): Promise<void> {
    await this.db
      .insertInto('export_jobs')
      .values({
        id: row.id,
        account_id: row.accountId,
        state: row.state,
        progress: row.progress,
        created_at: row.createdAt,
        updated_at: row.updatedAt,
        finished_at: row.finishedAt,
        file: row.file,
        bytes: row.bytes,
        expires_at: row.expiresAt,
        error: row.error,
      })
      .execute();
  }

  async byId(id: string): Promise<ExportJobRow | undefined> {
    const r = await this.db.selectFrom('export_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRow(r);
  }

  async byAccount(accountId: string): Promise<ExportJobRow[]> {
    const rows = await this.db
      .selectFrom('export_jobs')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toRow);
  }

  async transition(
    id: string,
    from: { state: ExportJobState; updatedAt?: number },
    change: Change,
  ): Promise<boolean> {
    let query = this.db
      .updateTable('export_jobs')
      .set(columns(change))
      .where('id', '=', id)
      .where('state', '=', from.state);
    if (from.updatedAt !== undefined) query = query.where('updated_at', '=', from.updatedAt);
    const r = await query.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async runnable(staleBefore: number): Promise<ExportJobRow[]> {
    const rows = await this.db
      .selectFrom('export_jobs')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('state', '=', 'queued'),
          eb.and([eb('state', '=', 'running'), eb('updated_at', '<', staleBefore)]),
        ]),
      )
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRow);
  }

  async expiring(now: number): Promise<ExportJobRow[]> {
    const rows = await this.db
      .selectFrom('export_jobs')
      .selectAll()
      .where('state', '=', 'done')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .execute();
    return rows.map(toRow);
  }

  async deleteFinishedBefore(before: number): Promise<number> {
    const r = await this.db
      .deleteFrom('export_jobs')
      .where('state', 'in', ['expired', 'failed'])
      .where('finished_at', '<', before)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteByAccount(accountId: string): Promise<number> {
    const r = await this.db.deleteFrom('export_jobs').where('account_id', '=', accountId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
