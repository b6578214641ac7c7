import type { Kysely, Selectable } from 'kysely';
import type { DeskAccountRow, DeskAuditEntry, DeskRole, DeskStore } from '../ports.ts';
import type { Database, DeskAccountsTable } from '../schema.ts';

const toAccount = (r: Selectable<DeskAccountsTable>): DeskAccountRow => ({
  id: r.id,
  kind: r.kind as DeskAccountRow['kind'],
  username: r.username,
  displayName: r.display_name,
  passwordHash: r.password_hash,
  totpSecret: r.totp_secret,
  roles: r.roles === '' ? [] : (r.roles.split(',') as DeskRole[]),
  country: r.country,
  authorityKind: r.authority_kind,
  createdAt: Number(r.created_at),
  disabledAt: r.disabled_at === null ? null : Number(r.disabled_at),
});

export class KyselyDeskStore implements DeskStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insertAccount(row: DeskAccountRow): Promise<void> {
    await this.db
      .insertInto('desk_accounts')
      .values({
        id: row.id,
        kind: row.kind,
        username: row.username,
        display_name: row.displayName,
        password_hash: row.passwordHash,
        totp_secret: row.totpSecret,
        roles: row.roles.join(','),
        country: row.country,
        authority_kind: row.authorityKind,
        created_at: row.createdAt,
        disabled_at: row.disabledAt ?? null,
      })
      .execute();
  }

  async accountByUsername(username: string): Promise<DeskAccountRow | undefined> {
    const r = await this.db
      .selectFrom('desk_accounts')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return r && toAccount(r);
  }

  async accountById(id: string): Promise<DeskAccountRow | undefined> {
    const r = await this.db.selectFrom('desk_accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toAccount(r);
  }

  async insertSession(tokenHash: string, accountId: string, expiresAt: number): Promise<void> {
    await this.db
      .insertInto('desk_sessions')
      .values({ token_hash: tokenHash, account_id: accountId, expires_at: expiresAt })
      .execute();
  }

  async session(tokenHash: string): Promise<{ accountId: string; expiresAt: number } | undefined> {
    const r = await this.db
      .selectFrom('desk_sessions')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return r && { accountId: r.account_id, expiresAt: Number(r.expires_at) };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('desk_sessions').where('token_hash', '=', tokenHash).execute();
  }

  async deleteSessionsOf(accountId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('desk_sessions')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    const r = await this.db.deleteFrom('desk_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async setDisabled(accountId: string, at: number | null): Promise<boolean> {
    const r = await this.db
      .updateTable('desk_accounts')
      .set({ disabled_at: at })
      .where('id', '=', accountId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async useTotpStep(accountId: string, step: number): Promise<boolean> {
    // One statement: of two logins racing with the same code, one updates the row, the other none.
    const r = await this.db
      .updateTable('desk_accounts')
      .set({ totp_last_step: step })
      .where('id', '=', accountId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async setPasswordHash(accountId: string, passwordHash: string): Promise<void> {
    await this.db
      .updateTable('desk_accounts')
      .set({ password_hash: passwordHash })
      .where('id', '=', accountId)
      .execute();
  }

  async deleteOtherSessions(accountId: string, keepTokenHash: string): Promise<number> {
    const r = await this.db
      .deleteFrom('desk_sessions')
      .where('account_id', '=', accountId)
      .where('token_hash', '<>', keepTokenHash)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async pendingTotpSecret(accountId: string): Promise<string | null> {
    const r = await this.db
      .selectFrom('desk_accounts')
      .select('pending_totp_secret')
      .where('id', '=', accountId)
      .executeTakeFirst();
    return r?.pending_totp_secret ?? null;
  }

  async setPendingTotpSecret(accountId: string, secret: string | null): Promise<void> {
    await this.db
      .updateTable('desk_accounts')
      .set({ pending_totp_secret: secret })
      .where('id', '=', accountId)
      .execute();
  }

  async confirmPendingTotpSecret(accountId: string, secret: string): Promise<boolean> {
    const r = await this.db
      .updateTable('desk_accounts')
      .set({ totp_secret: secret, pending_totp_secret: null })
      .where('id', '=', accountId)
      .where('pending_totp_secret', '=', secret)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async recordLoginFailure(keys: readonly string[], at: number): Promise<void> {
    if (keys.length === 0) return;
    await this.db
      .insertInto('desk_login_failures')
      .values(keys.map((key) => ({ key, at })))
      .execute();
  }

  async loginFailures(key: string, since: number): Promise<number> {
    const r = await this.db
      .selectFrom('desk_login_failures')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('key', '=', key)
      .where('at', '>', since)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.db.deleteFrom('desk_login_failures').where('key', '=', key).execute();
  }

  async deleteLoginFailuresBefore(before: number): Promise<number> {
    const r = await this.db.deleteFrom('desk_login_failures').where('at', '<=', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async audit(entry: DeskAuditEntry): Promise<void> {
    await this.db
      .insertInto('desk_audit')
      .values({
        at: entry.at,
        account_id: entry.accountId,
        action: entry.action,
        case_id: entry.caseId,
        ip: entry.ip ?? null,
      })
      .execute();
  }

  async auditLog(limit: number): Promise<DeskAuditEntry[]> {
    const rows = await this.db
      .selectFrom('desk_audit')
      .selectAll()
      .orderBy('at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      at: Number(r.at),
      accountId: r.account_id,
      action: r.action,
      caseId: r.case_id,
      ip: r.ip,
    }));
  }
}
