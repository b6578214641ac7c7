import { type Kysely, sql } from 'kysely';
import type { RateLimitStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class KyselyRateLimitStore implements RateLimitStore {
  constructor(private readonly db: Kysely<Database>) {}

  async hit(key: string, now: number, windowMs: number): Promise<number> {
    const expired = sql<boolean>`rate_limits.window_start <= ${now - windowMs}`;
    const r = await this.db
      .insertInto('rate_limits')
      .values({ key, window_start: now, count: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          count: sql`CASE WHEN ${expired} THEN 1 ELSE rate_limits.count + 1 END`,
          window_start: sql`CASE WHEN ${expired} THEN ${now} ELSE rate_limits.window_start END`,
        }),
      )
      .returning('count')
      .executeTakeFirstOrThrow();
    return Number(r.count);
  }

  async take(key: string, now: number, windowMs: number, max: number): Promise<boolean> {
    if (max < 1) return false;
    const expired = sql<boolean>`rate_limits.window_start <= ${now - windowMs}`;
    // An upsert whose update is conditional: a full window neither counts nor returns a row.
    const r = await this.db
      .insertInto('rate_limits')
      .values({ key, window_start: now, count: 1 })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({
            count: sql`CASE WHEN ${expired} THEN 1 ELSE rate_limits.count + 1 END`,
            window_start: sql`CASE WHEN ${expired} THEN ${now} ELSE rate_limits.window_start END`,
          })
          .where(sql<boolean>`${expired} OR rate_limits.count < ${max}`),
      )
      .returning('count')
      .executeTakeFirst();
    return r !== undefined;
  }

  async giveBack(key: string, now: number, windowMs: number): Promise<void> {
    await this.db
      .updateTable('rate_limits')
      .set({ count: sql`count - 1` })
      .where('key', '=', key)
      // Only the window the hit was taken in: it began by `now` and has not ended.
      .where('window_start', '>', now - windowMs)
      .where('window_start', '<=', now)
      .where('count', '>', 0)
      .execute();
  }

  async current(key: string, now: number, windowMs: number): Promise<number> {
    const r = await this.db
      .selectFrom('rate_limits')
      .select('count')
      .where('key', '=', key)
      .where('window_start', '>', now - windowMs)
      .executeTakeFirst();
    return r === undefined ? 0 : Number(r.count);
  }

  async deleteExpired(
    before: number,
    scope?: { prefix: string } | { exceptPrefix: string },
  ): Promise<number> {
    let query = this.db.deleteFrom('rate_limits').where('window_start', '<=', before);
    // substr rather than LIKE: a prefix is compared as it is, whatever characters it holds.
    if (scope && 'prefix' in scope)
      query = query.where(sql<boolean>`substr(key, 1, ${scope.prefix.length}) = ${scope.prefix}`);
    else if (scope)
      query = query.where(
        sql<boolean>`substr(key, 1, ${scope.exceptPrefix.length}) <> ${scope.exceptPrefix}`,
      );
    const r = await query.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteKey(key: string): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('key', '=', key).execute();
  }
}
