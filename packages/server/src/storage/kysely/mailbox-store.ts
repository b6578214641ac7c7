import { type Kysely, type Selectable, sql } from 'kysely';
import type { ClientKey, MailboxRow, MailboxStore, StoredSend } from '../ports.ts';
import type { Database, MailboxTable } from '../schema.ts';
import { byteBoundedPage } from './byte-bounded-page.ts';
import { clientKeyIn, findStoredSends } from './stored-sends.ts';

const toRow = (r: Selectable<MailboxTable>): MailboxRow => ({
  deviceId: r.device_id,
  seq: Number(r.seq),
  kind: r.kind === 'welcome' ? 'welcome' : 'device',
  senderAccountId: r.sender_account_id,
  senderDeviceId: r.sender_device_id,
  clientMsgId: r.client_msg_id,
  payload: new Uint8Array(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength),
  createdAt: Number(r.created_at),
});

export class KyselyMailboxStore implements MailboxStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(rows: readonly MailboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('mailbox')
      .values(
        rows.map((r) => ({
          device_id: r.deviceId,
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

  async storedSends(keys: readonly ClientKey[]): Promise<StoredSend[]> {
    return findStoredSends(keys, (chunk) =>
      this.db
        .selectFrom('mailbox')
        .select(['sender_device_id', 'client_msg_id', 'device_id as target', 'seq'])
        .where(clientKeyIn(chunk))
        .execute(),
    );
  }

  async range(deviceId: string, afterSeq: number, limit: number, maxBytes?: number): Promise<MailboxRow[]> {
    const page = this.db
      .selectFrom('mailbox')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit);
    const rows =
      maxBytes === undefined ? await page.execute() : await byteBoundedPage(this.db, page, maxBytes);
    return rows.map(toRow);
  }

  async pendingBytes(deviceId: string): Promise<number> {
    const r = await this.db
      .selectFrom('mailbox')
      .select(sql<number | string | null>`SUM(LENGTH(payload))`.as('bytes'))
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return Number(r?.bytes ?? 0);
  }

  async deleteUpTo(deviceId: string, seq: number): Promise<void> {
    await this.db.deleteFrom('mailbox').where('device_id', '=', deviceId).where('seq', '<=', seq).execute();
  }
}
