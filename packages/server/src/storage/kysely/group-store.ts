import { type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import type { DeviceMembership, GroupRow, GroupStore, MemberConsent, MemberRow } from '../ports.ts';
import type { Database, GroupMembersTable, GroupsTable } from '../schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';

const toGroup = (r: Selectable<GroupsTable>): GroupRow => ({
  id: r.id,
  kind: r.kind as GroupRow['kind'],
  title: r.title,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  lastSeq: Number(r.last_seq),
  memberCount: Number(r.member_count),
  directKey: r.direct_key,
});

const toMember = (r: Selectable<GroupMembersTable>): MemberRow => ({
  groupId: r.group_id,
  accountId: r.account_id,
  role: r.role as MemberRow['role'],
  joinedAt: Number(r.joined_at),
  joinedSeq: Number(r.joined_seq),
  consent: r.consent as MemberConsent,
});

export class KyselyGroupStore implements GroupStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
  ) {}

  async insert(row: GroupRow): Promise<void> {
    await this.db
      .insertInto('groups')
      .values({
        id: row.id,
        kind: row.kind,
        title: row.title,
        created_by: row.createdBy,
        created_at: row.createdAt,
        last_seq: row.lastSeq,
        member_count: row.memberCount,
        direct_key: row.directKey,
      })
      .execute();
  }

  async byId(id: string): Promise<GroupRow | undefined> {
    const r = await this.db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toGroup(r);
  }

  async byDirectKey(key: string): Promise<GroupRow | undefined> {
    const r = await this.db.selectFrom('groups').selectAll().where('direct_key', '=', key).executeTakeFirst();
    return r && toGroup(r);
  }

  async forAccount(
    accountId: string,
  ): Promise<(GroupRow & { role: MemberRow['role']; consent: MemberConsent })[]> {
    const rows = await this.db
      .selectFrom('group_members as m')
      .innerJoin('groups as g', 'g.id', 'm.group_id')
      .selectAll('g')
      .select(['m.role', 'm.consent'])
      .where('m.account_id', '=', accountId)
      .orderBy('g.created_at')
      .execute();
    return rows.map((r) => ({
      ...toGroup(r),
      role: r.role as MemberRow['role'],
      consent: r.consent as MemberConsent,
    }));
  }

  async members(groupId: string): Promise<MemberRow[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .selectAll()
      .where('group_id', '=', groupId)
      .orderBy('joined_seq')
      .orderBy('account_id')
      .execute();
    return rows.map(toMember);
  }

  async member(groupId: string, accountId: string): Promise<MemberRow | undefined> {
    const r = await this.db
      .selectFrom('group_members')
      .selectAll()
      .where('group_id', '=', groupId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return r && toMember(r);
  }

  async existingMembers(groupId: string, accountIds: readonly string[]): Promise<string[]> {
    if (accountIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('group_members')
      .select('account_id')
      .where('group_id', '=', groupId)
      .where('account_id', 'in', accountIds)
      .execute();
    return rows.map((r) => r.account_id);
  }

  async insertMembers(rows: readonly MemberRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await this.db
        .insertInto('group_members')
        .values(
          rows.slice(i, i + 500).map((r) => ({
            group_id: r.groupId,
            account_id: r.accountId,
            role: r.role,
            joined_at: r.joinedAt,
            joined_seq: r.joinedSeq,
            consent: r.consent,
          })),
        )
        .execute();
    }
  }

  async deleteMember(groupId: string, accountId: string): Promise<void> {
    await this.db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('account_id', '=', accountId)
      .execute();
  }

  async setRole(groupId: string, accountId: string, role: MemberRow['role']): Promise<void> {
    await this.db
      .updateTable('group_members')
      .set({ role })
      .where('group_id', '=', groupId)
      .where('account_id', '=', accountId)
      .execute();
  }

  async setConsent(groupId: string, accountId: string, consent: MemberConsent): Promise<boolean> {
    const r = await this.db
      .updateTable('group_members')
      .set({ consent })
      .where('group_id', '=', groupId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async detachDirect(groupId: string): Promise<void> {
    await this.db.updateTable('groups').set({ direct_key: null }).where('id', '=', groupId).execute();
  }

  async adjustMemberCount(groupId: string, delta: number): Promise<number> {
    const r = await this.db
      .updateTable('groups')
      .set({ member_count: sql`member_count + ${delta}` })
      .where('id', '=', groupId)
      .returning('member_count')
      .executeTakeFirstOrThrow();
    return Number(r.member_count);
  }

  async allocateSeq(groupId: string, count: number): Promise<number> {
    const r = await this.db
      .updateTable('groups')
      .set({ last_seq: sql`last_seq + ${count}` })
      .where('id', '=', groupId)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    return Number(r.last_seq);
  }

  async lockGroups(ids: readonly string[]): Promise<void> {
    if (this.dialect !== 'postgres' || ids.length === 0) return;
    const sorted = [...ids].sort();
    for (let i = 0; i < sorted.length; i += 400) {
      await sql`SELECT id FROM groups WHERE id IN (${sql.join(sorted.slice(i, i + 400))}) ORDER BY id FOR UPDATE`.execute(
        this.db,
      );
    }
  }

  async allocateSeqs(counts: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    const ids = [...counts.keys()].sort();
    const result = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 400) {
      const chunk = ids.slice(i, i + 400);
      // SQLite has one writer at a time; PostgreSQL needs the rows locked in one global order.
      if (this.dialect === 'postgres') {
        await sql`SELECT id FROM groups WHERE id IN (${sql.join(chunk)}) ORDER BY id FOR UPDATE`.execute(
          this.db,
        );
      }
      const values = sql.join(chunk.map((id) => sql`(${id}, ${counts.get(id)!})`));
      const rows = await sql<{ id: string; last_seq: number | string }>`
        UPDATE groups SET last_seq = groups.last_seq + CAST(v.column2 AS bigint)
        FROM (VALUES ${values}) AS v
        WHERE groups.id = v.column1
        RETURNING groups.id, groups.last_seq`.execute(this.db);
      for (const r of rows.rows) result.set(r.id, Number(r.last_seq));
    }
    return result;
  }

  private membershipQuery(deviceId: string) {
    return this.db
      .selectFrom('group_members as m')
      .innerJoin('groups as g', 'g.id', 'm.group_id')
      .innerJoin('devices as d', 'd.account_id', 'm.account_id')
      .leftJoin('device_cursors as c', (join) =>
        join.onRef('c.group_id', '=', 'm.group_id').onRef('c.device_id', '=', 'd.id'),
      )
      .select([
        'm.group_id as groupId',
        'g.last_seq as lastSeq',
        sql<number>`COALESCE(c.acked_seq, m.joined_seq - 1)`.as('ackedSeq'),
      ])
      .where('d.id', '=', deviceId)
      .where('m.consent', '<>', 'declined');
  }

  async membershipsOfDevice(deviceId: string, accountId: string): Promise<DeviceMembership[]> {
    const rows = await this.membershipQuery(deviceId).where('m.account_id', '=', accountId).execute();
    return rows.map((r) => ({
      groupId: r.groupId,
      lastSeq: Number(r.lastSeq),
      ackedSeq: Number(r.ackedSeq),
    }));
  }

  async membershipOfDevice(deviceId: string, groupId: string): Promise<DeviceMembership | undefined> {
    const r = await this.membershipQuery(deviceId).where('m.group_id', '=', groupId).executeTakeFirst();
    return r && { groupId: r.groupId, lastSeq: Number(r.lastSeq), ackedSeq: Number(r.ackedSeq) };
  }

  async lastSeqs(ids: readonly string[]): Promise<{ groupId: string; lastSeq: number }[]> {
    const found: { groupId: string; lastSeq: number }[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('groups')
        .select(['id', 'last_seq'])
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) found.push({ groupId: r.id, lastSeq: Number(r.last_seq) });
    }
    return found;
  }

  async memberPairs(
    pairs: readonly { groupId: string; accountId: string }[],
  ): Promise<{ groupId: string; accountId: string }[]> {
    const found: { groupId: string; accountId: string }[] = [];
    for (let i = 0; i < pairs.length; i += 400) {
      const chunk = pairs.slice(i, i + 400);
      const rows = await this.db
        .selectFrom('group_members')
        .select(['group_id', 'account_id'])
        .where(
          sql<SqlBool>`(group_id, account_id) IN (VALUES ${sql.join(chunk.map((p) => sql`(${p.groupId}, ${p.accountId})`))})`,
        )
        .execute();
      for (const r of rows) found.push({ groupId: r.group_id, accountId: r.account_id });
    }
    return found;
  }

  async isMember(groupId: string, accountId: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('group_members')
      .select('role')
      .where('group_id', '=', groupId)
      .where('account_id', '=', accountId)
      .where('consent', '<>', 'declined')
      .executeTakeFirst();
    return r !== undefined;
  }

  async shareChat(accountId: string, otherAccountId: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('group_members as mine')
      .innerJoin('group_members as theirs', 'theirs.group_id', 'mine.group_id')
      .select('mine.group_id')
      .where('mine.account_id', '=', accountId)
      .where('theirs.account_id', '=', otherAccountId)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }
}
