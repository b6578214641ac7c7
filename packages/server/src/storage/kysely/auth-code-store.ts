import { type Kysely, sql } from 'kysely';
import type { AuthCodeRow, AuthCodeStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class KyselyAuthCodeStore implements AuthCodeStore {
  constructor(private readonly db: Kysely<Database>) {}

  async put(row: AuthCodeRow): Promise<void> {
    await this.db
      .insertInto('auth_codes')
      .values({
        id: row.id,
        phone: row.phone,
        code_hash: row.codeHash,
        expires_at: row.expiresAt,
        attempts: row.attempts,
        consumed_at: row.consumedAt,
        created_at: row.createdAt,
      })
      .execute();
  }

  async byId(id: string): Promise<AuthCodeRow | undefined> {
    const r = await this.db.selectFrom('auth_codes').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      r && {
        id: r.id,
        phone: r.phone,
        codeHash: r.code_hash,
        expiresAt: Number(r.expires_at),
        attempts: Number(r.attempts),
        consumedAt: r.consumed_at === null ? null : Number(r.consumed_at),
        createdAt: Number(r.created_at),
      }
    );
  }

  async attempt(
    id: string,
    phone: string,
    now: number,
    maxAttempts: number,
  ): Promise<{ codeHash: string; attempts: number } | undefined> {
    // One statement: the row lock (PostgreSQL) or the write lock (SQLite) orders racing attempts,
    // and each re-checks `attempts < max` against the committed count.
    const r = await this.db
      .updateTable('auth_codes')
      .set({ attempts: sql`attempts + 1` })
      .where('id', '=', id)
      .where('phone', '=', phone)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .where('attempts', '<', maxAttempts)
      .returning(['code_hash', 'attempts'])
      .executeTakeFirst();
    return r && { codeHash: r.code_hash, attempts: Number(r.attempts) };
  }

  async consume(id: string, codeHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('auth_codes')
      .set({ consumed_at: now })
      .where('id', '=', id)
      .where('code_hash', '=', codeHash)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('auth_codes').where('id', '=', id).execute();
  }

  async deleteByPhone(phone: string): Promise<number> {
    const r = await this.db.deleteFrom('auth_codes').where('phone', '=', phone).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('auth_codes').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
