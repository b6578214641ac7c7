import { type Kysely, type Selectable, sql } from 'kysely';
import type { LogCheckpointRow, LogLeafRow, TransparencyLogStore } from '../ports.ts';
import type { Database, LogCheckpointsTable, LogLeavesTable } from '../schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';

const bytes = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const toLeaf = (r: Selectable<LogLeavesTable>): LogLeafRow => ({
  idx: Number(r.idx),
  leaf: r.leaf,
  leafHash: bytes(r.leaf_hash),
  createdAt: Number(r.created_at),
});
const toCheckpoint = (r: Selectable<LogCheckpointsTable>): LogCheckpointRow => ({
  size: Number(r.size),
  rootHash: bytes(r.root_hash),
  note: r.note,
  createdAt: Number(r.created_at),
});

export class KyselyTransparencyLogStore implements TransparencyLogStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
  ) {}

  async lock(): Promise<void> {
    // SQLite has one writer; on PostgreSQL a transaction-scoped advisory lock serialises appenders.
    if (this.dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(6962)`.execute(this.db);
  }

  async size(): Promise<number> {
    const r = await this.db
      .selectFrom('log_leaves')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async append(row: LogLeafRow): Promise<void> {
    await this.db
      .insertInto('log_leaves')
      .values({ idx: row.idx, leaf: row.leaf, leaf_hash: row.leafHash, created_at: row.createdAt })
      .execute();
  }

  async leaves(start: number, end: number): Promise<LogLeafRow[]> {
    const rows = await this.db
      .selectFrom('log_leaves')
      .selectAll()
      .where('idx', '>=', start)
      .where('idx', '<', end)
      .orderBy('idx')
      .execute();
    return rows.map(toLeaf);
  }

  async leafHashes(): Promise<Uint8Array[]> {
    const rows = await this.db.selectFrom('log_leaves').select(['leaf_hash']).orderBy('idx').execute();
    return rows.map((r) => bytes(r.leaf_hash));
  }

  async putCheckpoint(row: LogCheckpointRow): Promise<void> {
    await this.db
      .insertInto('log_checkpoints')
      .values({ size: row.size, root_hash: row.rootHash, note: row.note, created_at: row.createdAt })
      .onConflict((oc) => oc.column('size').doUpdateSet({ note: row.note, created_at: row.createdAt }))
      .execute();
  }

  async latestCheckpoint(): Promise<LogCheckpointRow | undefined> {
    const r = await this.db
      .selectFrom('log_checkpoints')
      .selectAll()
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r && toCheckpoint(r);
  }

  async checkpoint(size: number): Promise<LogCheckpointRow | undefined> {
    const r = await this.db
      .selectFrom('log_checkpoints')
      .selectAll()
      .where('size', '=', size)
      .executeTakeFirst();
    return r && toCheckpoint(r);
  }
}
