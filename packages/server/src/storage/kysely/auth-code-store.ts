import { type Kysely, sql } from 'kysely';
import type { AuthCodeRow, AuthCodeStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class KyselyAuthCodeStore implements AuthCodeStore {
  constructor(private readonly db: Kysely<Database>) {}

  async put(row: AuthCodeRow): Promise<void> {
    const values = {
      phone: row.phone,
      code_hash: row.codeHash,
      intent: row.intent,
      expires_at: row.expiresAt,
      attempts: row.attempts,
      created_at: row.createdAt,
    };
    await this.db
      .insertInto('auth_codes')
      .values(values)
      .onConflict((oc) => oc.column('phone').doUpdateSet(values))
      .execute();
  }

  async byPhone(phone: string): Promise<AuthCodeRow | undefined> {
    const r = await this.db
      .selectFrom('auth_codes')
      .selectAll()
      .where('phone', '=', phone)
      .executeTakeFirst();
    return (
      r && {
        phone: r.phone,
        codeHash: r.code_hash,
        intent: r.intent,
        expiresAt: Number(r.expires_at),
        attempts: Number(r.attempts),
        createdAt: Number(r.created_at),
      }
    );
  }

  async addAttempt(phone: string): Promise<number> {
    const r = await this.db
      .updateTable('auth_codes')
      .set({ attempts: sql`attempts + 1` })
      .where('phone', '=', phone)
      .returning('attempts')
      .executeTakeFirst();
    return r ? Number(r.attempts) : Number.POSITIVE_INFINITY;
  }

  async delete(phone: string): Promise<void> {
    await this.db.deleteFrom('auth_codes').where('phone', '=', phone).execute();
  }

  async deleteExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('auth_codes').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
