import { type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import type { AccountRow, AccountStore, Audience, PrivacySettings } from '../ports.ts';
import type { AccountsTable, Database } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const toRow = (r: Selectable<AccountsTable>): AccountRow => ({
  id: r.id,
  phone: r.phone,
  username: r.username,
  displayName: r.display_name,
  createdAt: Number(r.created_at),
  lastSeenDay: r.last_seen_day === null ? null : Number(r.last_seen_day),
  privacy: {
    phoneVisibility: r.phone_visibility as Audience,
    phoneDiscovery: r.phone_discovery as Audience,
    lastSeenVisibility: r.last_seen_visibility as Audience,
    selfDestructMonths: Number(r.self_destruct_months) as PrivacySettings['selfDestructMonths'],
    groupAdd: r.group_add as Audience,
  },
});

/** The average Gregorian month, for self-destruct periods. */
const MONTH_MS = 2_629_746_000;

export class KyselyAccountStore implements AccountStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: AccountRow): Promise<void> {
    await this.db
      .insertInto('accounts')
      .values({
        id: row.id,
        phone: row.phone,
        username: row.username,
        username_key: row.username?.toLowerCase() ?? null,
        display_name: row.displayName,
        created_at: row.createdAt,
        last_seen_day: row.lastSeenDay,
        phone_visibility: row.privacy.phoneVisibility,
        phone_discovery: row.privacy.phoneDiscovery,
        last_seen_visibility: row.privacy.lastSeenVisibility,
        self_destruct_months: row.privacy.selfDestructMonths,
        group_add: row.privacy.groupAdd,
      })
      .execute();
  }

  async byId(id: string): Promise<AccountRow | undefined> {
    const r = await this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRow(r);
  }

  async byIds(ids: readonly string[]): Promise<AccountRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('accounts').selectAll().where('id', 'in', ids).execute();
    return rows.map(toRow);
  }

  async byPhone(phone: string): Promise<AccountRow | undefined> {
    const r = await this.db.selectFrom('accounts').selectAll().where('phone', '=', phone).executeTakeFirst();
    return r && toRow(r);
  }

  async byUsername(username: string): Promise<AccountRow | undefined> {
    const r = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('username_key', '=', username.toLowerCase())
      .executeTakeFirst();
    return r && toRow(r);
  }

  async setUsername(id: string, username: string | null): Promise<boolean> {
    const key = username?.toLowerCase() ?? null;
    // A taken name is found by reading first: a failed statement would abort a PostgreSQL
    // transaction the caller means to go on with. The unique index still decides a race.
    if (key !== null) {
      const holder = await this.db
        .selectFrom('accounts')
        .select('id')
        .where('username_key', '=', key)
        .where('id', '<>', id)
        .executeTakeFirst();
      if (holder) return false;
    }
    try {
      await this.db
        .updateTable('accounts')
        .set({ username, username_key: key })
        .where('id', '=', id)
        .execute();
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async setDisplayName(id: string, displayName: string): Promise<void> {
    await this.db.updateTable('accounts').set({ display_name: displayName }).where('id', '=', id).execute();
  }

  async touchLastSeenDay(ids: readonly string[], day: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('accounts').set({ last_seen_day: day }).where('id', 'in', ids).execute();
  }

  async setPrivacy(id: string, privacy: PrivacySettings): Promise<void> {
    await this.db
      .updateTable('accounts')
      .set({
        phone_visibility: privacy.phoneVisibility,
        phone_discovery: privacy.phoneDiscovery,
        last_seen_visibility: privacy.lastSeenVisibility,
        self_destruct_months: privacy.selfDestructMonths,
        group_add: privacy.groupAdd,
      })
      .where('id', '=', id)
      .execute();
  }

  async expired(now: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .select('id')
      .where(
        sql<SqlBool>`COALESCE(last_seen_day, created_at) + self_destruct_months * CAST(${MONTH_MS} AS bigint) < ${now}`,
      )
      .execute();
    return rows.map((r) => r.id);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('accounts').where('id', '=', id).execute();
  }
}
