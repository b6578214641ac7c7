import type { Kysely } from 'kysely';
import type { SessionRow, SessionStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class KyselySessionStore implements SessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: SessionRow): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        token_hash: row.tokenHash,
        device_id: row.deviceId,
        account_id: row.accountId,
        created_at: row.createdAt,
        last_used_at: row.lastUsedAt,
      })
      .execute();
  }

  async existing(tokenHashes: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < tokenHashes.length; i += 500) {
      const rows = await this.db
        .selectFrom('sessions')
        .select('token_hash')
        .where('token_hash', 'in', tokenHashes.slice(i, i + 500))
        .execute();
      for (const r of rows) found.add(r.token_hash);
    }
    return found;
  }

  async byTokenHash(tokenHash: string): Promise<SessionRow | undefined> {
    const r = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return (
      r && {
        tokenHash: r.token_hash,
        deviceId: r.device_id,
        accountId: r.account_id,
        createdAt: Number(r.created_at),
        lastUsedAt: Number(r.last_used_at),
      }
    );
  }

  async deleteByTokenHash(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  async deleteByDevice(deviceId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('device_id', '=', deviceId).execute();
  }

  async byAccount(accountId: string): Promise<SessionRow[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('account_id', '=', accountId)
      .execute();
    return rows.map((r) => ({
      tokenHash: r.token_hash,
      deviceId: r.device_id,
      accountId: r.account_id,
      createdAt: Number(r.created_at),
      lastUsedAt: Number(r.last_used_at),
    }));
  }

  async deleteUnusedSince(before: number): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('last_used_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async touch(tokenHashes: readonly string[], at: number): Promise<void> {
    if (tokenHashes.length === 0) return;
    await this.db
      .updateTable('sessions')
      .set({ last_used_at: at })
      .where('token_hash', 'in', tokenHashes)
      .execute();
  }
}
