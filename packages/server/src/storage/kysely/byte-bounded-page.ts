import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { Database } from '../schema.ts';

/**
 * Reads a page of a sequenced log (a query ordered by `seq` and limited in rows) that also fits in
 * `maxBytes` of payload: a running SUM over the payload lengths decides where it ends. The first
 * row always comes, so a reader moves on past an entry larger than the bound.
 */
export async function byteBoundedPage<TB extends 'group_entries' | 'mailbox' | 'channel_posts', O>(
  db: Kysely<Database>,
  page: SelectQueryBuilder<Database, TB, O>,
  maxBytes: number,
): Promise<O[]> {
  const rows = await db
    .selectFrom(
      page.select(sql<number>`SUM(LENGTH(payload)) OVER (ORDER BY seq)`.as('running_bytes')).as('page'),
    )
    .selectAll()
    .where(sql<boolean>`running_bytes <= ${maxBytes} OR running_bytes = LENGTH(payload)`)
    .orderBy(sql`seq`)
    .execute();
  return rows as O[];
}
