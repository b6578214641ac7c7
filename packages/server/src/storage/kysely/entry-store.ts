import { type Kysely, type Selectable, sql } from 'kysely';
import type { ClientKey, EntryRow, EntryStore, StoredSend } from '../ports.ts';
import type { Database, GroupEntriesTable } from '../schema.ts';
import { byteBoundedPage } from './byte-bounded-page.ts';
import { clientKeyIn, findStoredSends } from './stored-sends.ts';

const CHUNK = 500;

const toRow = (r: Selectable<GroupEntriesTable>): EntryRow => ({
  groupId: r.group_id,
  seq: Number(r.seq),
  kind: r.kind as EntryRow['kind'],
  senderAccountId: r.sender_account_id,
  senderDeviceId: r.sender_device_id,
  clientMsgId: r.client_msg_id,
  payload: new Uint8Array(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength),
  createdAt: Number(r.created_at),
});

export class KyselyEntryStore implements EntryStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(rows: readonly EntryRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      await this.db
        .insertInto('group_entries')
        .values(
          rows.slice(i, i + CHUNK).map((r) => ({
            group_id: r.groupId,
            seq: r.seq,
            kind: r.kind,
            sender_account_id: r.senderAccountId,
            sender_device_id: r.senderDeviceId,
            client_msg_id: r.clientMsgId,
            payload: r.payload,
            created_at: r.createdAt,
          })),
        )
        .execute();
    }
  }

  async storedSends(keys: readonly ClientKey[]): Promise<StoredSend[]> {
    return findStoredSends(keys, (chunk) =>
      this.db
        .selectFrom('group_entries')
        .select(['sender_device_id', 'client_msg_id', 'group_id as target', 'seq'])
        .where(clientKeyIn(chunk))
        .execute(),
    );
  }

  async range(groupId: string, afterSeq: number, limit: number, maxBytes?: number): Promise<EntryRow[]> {
    const page = this.db
      .selectFrom('group_entries')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit);
    const rows =
      maxBytes === undefined ? await page.execute() : await byteBoundedPage(this.db, page, maxBytes);
    return rows.map(toRow);
  }

  async prune(olderThan: number): Promise<number> {
    const old = await this.db
      .deleteFrom('group_entries')
      .where('created_at', '<', olderThan)
      .executeTakeFirst();
    // The floor of a group: the lowest position any member device has acknowledged.
    const acked = await this.db
      .deleteFrom('group_entries')
      .where(
        'seq',
        '<=',
        sql<number>`(SELECT MIN(COALESCE(c.acked_seq, m.joined_seq - 1))
          FROM group_members m
          JOIN devices d ON d.account_id = m.account_id
          LEFT JOIN device_cursors c ON c.device_id = d.id AND c.group_id = m.group_id
          WHERE m.group_id = group_entries.group_id)`,
      )
      .executeTakeFirst();
    return Number(old.numDeletedRows) + Number(acked.numDeletedRows);
  }
}
