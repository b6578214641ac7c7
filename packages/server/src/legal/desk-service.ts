import { createHash, randomBytes } from 'node:crypto';
import { CourierError } from '@courier/protocol';
import argon2 from 'argon2';
import { Secret, TOTP } from 'otpauth';
import type { Clock } from '../deps.ts';
import type { DeskAccountRow, DeskRole, DeskStore, LegalCaseRow, LegalCaseStore } from '../storage/ports.ts';
import { ISO_COUNTRIES } from './iso-countries.ts';
import type { LegalDesk } from './legal-desk.ts';
import { AUTHORITY_KINDS, type LegalRequest } from './legal-request.ts';
import type { Decision } from './policy-engine.ts';

const SESSION_MS = 8 * 3_600_000;
const TOTP_PERIOD_S = 30;
const DESK_ROLES: readonly DeskRole[] = ['intake', 'reviewer', 'approver', 'auditor', 'moderator'];
const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const totpFor = (account: Pick<DeskAccountRow, 'username' | 'totpSecret'>) =>
  new TOTP({
    issuer: 'Courier desk',
    label: account.username,
    period: TOTP_PERIOD_S,
    secret: Secret.fromBase32(account.totpSecret),
  });
/** Failed logins are counted under hashes: a username typed wrong (or a password typed into it) is not stored. */
const failureKey = (kind: 'user' | 'ip', value: string) =>
  createHash('sha256').update(`${kind}:${value}`).digest('base64url');

/** Login throttling (ASVS 5.0 V6.3.1): failed attempts allowed in a sliding window. */
export interface DeskLoginLimits {
  failedLoginsPerUser: number;
  failedLoginsPerIp: number;
  failedLoginWindowMs: number;
}

const DEFAULT_LIMITS: DeskLoginLimits = {
  failedLoginsPerUser: 5,
  failedLoginsPerIp: 20,
  failedLoginWindowMs: 15 * 60_000,
};

/**
 * What an authority sees of its own request: its id, when it arrived and its status. Nothing that
 * depends on whether a target has an account (the status of a case the rules allow is
 * `awaiting_approval` either way); findings are for staff.
 */
export interface AuthorityCaseSummary {
  caseId: string;
  receivedAt: number;
  status: LegalCaseRow['status'];
  /** The requesting authority's country (ISO 3166-1 alpha-2), as the request named it. */
  country: string;
  /** The end of the court's non-disclosure order (ISO date or date-time), or null when there is none. */
  nonDisclosureUntil: string | null;
}

/** What staff see: the decision with the facts (consulted only once the rules passed). */
export interface StaffCaseSummary extends AuthorityCaseSummary {
  outcome: string;
  reasons: string[];
  disclosable: string[];
  /** Each target and what the lookup found; left out for auditors, who see metadata only. */
  targets?: Decision['targets'];
  /** Why staff declined the case, as written (never published). */
  declineReason: string | null;
}

export type CaseSummary = AuthorityCaseSummary | StaffCaseSummary;

/** What a desk account may do with a case now: the desk app offers exactly these. */
export type CaseAction = 'approve' | 'decline' | 'produce' | 'download_package' | 'read_document';

/**
 * One case as the desk app shows it. An authority sees its own request as it was parsed, the
 * document it filed and the status; staff who work cases see the decision with its reasons and
 * findings, who approved and the case's commitment in the public log; auditors see metadata only
 * (no targets, no document).
 */
export interface CaseDetail {
  summary: CaseSummary;
  /** The request as parsed; for auditors without its targets (their number stays in `targetCount`). */
  request: Omit<LegalRequest, 'targets'> & { targets?: LegalRequest['targets'] };
  targetCount: number;
  documentSha256: string;
  /** Staff only: the decision (for auditors without targets and accounts). */
  decision?: Omit<Decision, 'targets' | 'accounts'> & Partial<Pick<Decision, 'targets' | 'accounts'>>;
  /** Staff only: who approved, in order. */
  approvals?: { username: string; displayName: string }[];
  approvalsRequired?: number;
  /** Staff only: the case's salted commitment, as its leaves in the public log name it. */
  commitment?: string;
  actions: CaseAction[];
}

const authoritySummary = (c: LegalCaseRow): AuthorityCaseSummary => {
  const request = JSON.parse(c.request) as LegalRequest;
  return {
    caseId: c.id,
    receivedAt: c.receivedAt,
    status: c.status,
    country: request.authority.country,
    nonDisclosureUntil: request.nonDisclosure?.until ?? null,
  };
};

/** Who is signed in, as the desk app shows it (an authority's form is filled in with its own name). */
export interface DeskProfile {
  username: string;
  displayName: string;
  kind: DeskAccountRow['kind'];
  roles: DeskRole[];
  country: string | null;
  authorityKind: string | null;
}

const staffSummary = (c: LegalCaseRow, withTargets: boolean): StaffCaseSummary => {
  const decision = JSON.parse(c.decision) as Decision;
  return {
    ...authoritySummary(c),
    outcome: decision.outcome,
    reasons: decision.reasons,
    disclosable: decision.disclosable,
    ...(withTargets ? { targets: decision.targets } : {}),
    declineReason: c.declineReason ?? null,
  };
};

/**
 * The desk's people: staff (roles intake, reviewer, approver, auditor) and verified authorities,
 * each logging in with a password (argon2id) and a TOTP code; sessions expire after 8 hours;
 * every staff action is written to the audit log.
 */
export class DeskService {
  constructor(
    private readonly store: DeskStore,
    private readonly cases: LegalCaseStore,
    private readonly desk: LegalDesk,
    private readonly clock: Clock,
    private readonly limits: DeskLoginLimits = DEFAULT_LIMITS,
  ) {}

  /**
   * What an unknown username is checked against, so that a login takes one argon2id verification
   * (same parameters as real hashes) and one TOTP check whether or not the account exists.
   */
  private decoy: Promise<Pick<DeskAccountRow, 'username' | 'passwordHash' | 'totpSecret'>> | undefined;
  private decoyAccount() {
    this.decoy ??= argon2.hash(randomBytes(32), { type: argon2.argon2id }).then((passwordHash) => ({
      username: 'decoy',
      passwordHash,
      totpSecret: new Secret({ size: 20 }).base32,
    }));
    return this.decoy;
  }

  /**
   * Creates a desk account (operator command); returns the TOTP secret to enrol in an authenticator,
   * and the enrolment link (a path of this server) where the desk app shows it as a QR code: the
   * secret rides in the fragment, which browsers never send to a server.
   */
  async createAccount(input: {
    kind: DeskAccountRow['kind'];
    username: string;
    displayName: string;
    password: string;
    roles?: DeskRole[];
    country?: string;
    authorityKind?: string;
  }): Promise<{ id: string; totpSecret: string; otpauthUri: string; enrolmentLink: string }> {
    if (!/^[a-z0-9_.-]{3,64}$/.test(input.username)) throw new Error('usernames have 3–64 of a-z 0-9 _ . -');
    if (input.password.length < 12) throw new Error('desk passwords have at least 12 characters');
    const roles = input.roles ?? [];
    if (roles.some((r) => !DESK_ROLES.includes(r))) throw new Error(`roles are ${DESK_ROLES.join(', ')}`);
    if (input.kind === 'staff' && roles.length === 0)
      throw new Error('a staff member needs at least one role');
    if (input.kind === 'authority' && !(input.country && ISO_COUNTRIES.has(input.country))) {
      throw new Error('an authority needs its ISO 3166-1 country (--country)');
    }
    if (
      input.kind === 'authority' &&
      !(AUTHORITY_KINDS as readonly string[]).includes(input.authorityKind ?? '')
    ) {
      throw new Error(`an authority needs its kind (--kind ${AUTHORITY_KINDS.join('|')})`);
    }
    const totpSecret = new Secret({ size: 20 }).base32;
    const row: DeskAccountRow = {
      id: `s_${randomBytes(12).toString('base64url')}`,
      kind: input.kind,
      username: input.username,
      displayName: input.displayName,
      passwordHash: await argon2.hash(input.password, { type: argon2.argon2id }),
      totpSecret,
      roles: input.kind === 'staff' ? roles : [],
      country: input.kind === 'authority' ? (input.country ?? null) : null,
      authorityKind: input.kind === 'authority' ? (input.authorityKind ?? null) : null,
      createdAt: this.clock.now(),
    };
    await this.store.insertAccount(row);
    const otpauthUri = totpFor(row).toString();
    return {
      id: row.id,
      totpSecret,
      otpauthUri,
      enrolmentLink: `/desk/#enrol=${encodeURIComponent(otpauthUri)}`,
    };
  }

  /**
   * Password (argon2id) and TOTP code. Failed attempts are throttled per username and per client
   * address (DESK_LOGIN_THROTTLED) and audited; an unknown username costs the same argon2
   * verification as a known one; a code is accepted once (its time step is remembered); a disabled
   * account fails like a wrong password.
   */
  async login(
    username: string,
    password: string,
    code: string,
    ip = 'unknown',
  ): Promise<{ token: string; expiresAt: number; kind: string; roles: DeskRole[] }> {
    const now = this.clock.now();
    const keys = { user: failureKey('user', username), ip: failureKey('ip', ip) };
    const since = now - this.limits.failedLoginWindowMs;
    if (
      (await this.store.loginFailures(keys.ip, since)) >= this.limits.failedLoginsPerIp ||
      (await this.store.loginFailures(keys.user, since)) >= this.limits.failedLoginsPerUser
    ) {
      await this.store.audit({ at: now, accountId: '', action: 'login_throttled', caseId: null, ip });
      throw new CourierError('DESK_LOGIN_THROTTLED', {
        details: { retryAfterMs: this.limits.failedLoginWindowMs },
      });
    }
    const account = await this.store.accountByUsername(username);
    const checked = account ?? (await this.decoyAccount());
    const passwordOk = await argon2.verify(checked.passwordHash, password);
    const totp = totpFor(checked);
    const delta = totp.validate({ token: code, timestamp: now, window: 1 });
    const ok =
      account !== undefined &&
      passwordOk &&
      delta !== null &&
      !account.disabledAt &&
      // Last: only a right password and code use up the time step (a replay fails here).
      (await this.store.useTotpStep(account.id, totp.counter({ timestamp: now }) + delta));
    if (!ok) {
      await this.store.recordLoginFailure([keys.user, keys.ip], now);
      await this.store.audit({
        at: now,
        accountId: account?.id ?? '',
        action: 'login_failed',
        caseId: null,
        ip,
      });
      throw new CourierError('DESK_LOGIN_FAILED');
    }
    await this.store.clearLoginFailures(keys.user);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + SESSION_MS;
    await this.store.insertSession(hashToken(token), account.id, expiresAt);
    if (account.kind === 'staff')
      await this.store.audit({ at: now, accountId: account.id, action: 'login', caseId: null, ip });
    return { token, expiresAt, kind: account.kind, roles: account.roles };
  }

  async authenticate(token: string | undefined): Promise<DeskAccountRow> {
    const session = token ? await this.store.session(hashToken(token)) : undefined;
    if (!session || session.expiresAt <= this.clock.now()) throw new CourierError('DESK_SESSION_INVALID');
    const account = await this.store.accountById(session.accountId);
    if (!account || account.disabledAt) throw new CourierError('DESK_SESSION_INVALID');
    return account;
  }

  /** The signed-in account as the desk app shows it. */
  profile(account: DeskAccountRow): DeskProfile {
    return {
      username: account.username,
      displayName: account.displayName,
      kind: account.kind,
      roles: account.roles,
      country: account.country,
      authorityKind: account.authorityKind,
    };
  }

  /** Ends the session on the server: the token opens nothing afterwards. */
  async logout(account: DeskAccountRow, token: string): Promise<void> {
    await this.store.deleteSession(hashToken(token));
    await this.audit(account, 'logout', null);
  }

  /**
   * Disables (or enables again) a desk account (operator command); disabling ends every session
   * of the account at once. Returns whether the account exists.
   */
  async setDisabled(username: string, disabled: boolean): Promise<DeskAccountRow | undefined> {
    const account = await this.store.accountByUsername(username);
    if (!account) return undefined;
    const now = this.clock.now();
    await this.store.setDisabled(account.id, disabled ? now : null);
    if (disabled) await this.store.deleteSessionsOf(account.id);
    await this.store.audit({
      at: now,
      accountId: account.id,
      action: disabled ? 'disabled_by_operator' : 'enabled_by_operator',
      caseId: null,
    });
    return { ...account, disabledAt: disabled ? now : null };
  }

  /**
   * Checks a signed-in account's current password and TOTP code before it changes either: failures
   * count against the username's login throttle and are audited (`<action>_failed`); a right code
   * is used up as at login.
   */
  private async reauthenticate(
    account: DeskAccountRow,
    password: string,
    code: string,
    action: string,
    ip: string,
  ): Promise<void> {
    const now = this.clock.now();
    const key = failureKey('user', account.username);
    if (
      (await this.store.loginFailures(key, now - this.limits.failedLoginWindowMs)) >=
      this.limits.failedLoginsPerUser
    ) {
      await this.store.audit({
        at: now,
        accountId: account.id,
        action: `${action}_throttled`,
        caseId: null,
        ip,
      });
      throw new CourierError('DESK_LOGIN_THROTTLED', {
        details: { retryAfterMs: this.limits.failedLoginWindowMs },
      });
    }
    const passwordOk = await argon2.verify(account.passwordHash, password);
    const totp = totpFor(account);
    const delta = totp.validate({ token: code, timestamp: now, window: 1 });
    const ok =
      passwordOk &&
      delta !== null &&
      (await this.store.useTotpStep(account.id, totp.counter({ timestamp: now }) + delta));
    if (!ok) {
      await this.store.recordLoginFailure([key], now);
      await this.store.audit({
        at: now,
        accountId: account.id,
        action: `${action}_failed`,
        caseId: null,
        ip,
      });
      throw new CourierError('DESK_CREDENTIALS_WRONG');
    }
  }

  /**
   * A staff member starts changing their own TOTP secret (current password and code): a new secret
   * waits for confirmation, shown by the desk app as a QR code; the old secret keeps working until
   * `confirmTotpChange`. Starting again replaces the waiting secret.
   */
  async beginTotpChange(
    account: DeskAccountRow,
    password: string,
    code: string,
    ip = 'unknown',
  ): Promise<{ otpauthUri: string; totpSecret: string }> {
    await this.require(account, 'totp_change', null, ...DESK_ROLES);
    await this.reauthenticate(account, password, code, 'totp_change', ip);
    const totpSecret = new Secret({ size: 20 }).base32;
    await this.store.setPendingTotpSecret(account.id, totpSecret);
    await this.store.audit({
      at: this.clock.now(),
      accountId: account.id,
      action: 'totp_change_started',
      caseId: null,
      ip,
    });
    return { otpauthUri: totpFor({ username: account.username, totpSecret }).toString(), totpSecret };
  }

  /**
   * A code from the waiting secret makes it the account's TOTP secret: from then on only it logs
   * in. A wrong code leaves both as they were (DESK_TOTP_CONFIRM_FAILED).
   */
  async confirmTotpChange(account: DeskAccountRow, code: string, ip = 'unknown'): Promise<void> {
    await this.require(account, 'totp_change', null, ...DESK_ROLES);
    const now = this.clock.now();
    const pending = await this.store.pendingTotpSecret(account.id);
    if (!pending) throw new CourierError('DESK_TOTP_CHANGE_NOT_STARTED');
    const totp = totpFor({ username: account.username, totpSecret: pending });
    const delta = totp.validate({ token: code, timestamp: now, window: 1 });
    if (delta === null) {
      await this.store.audit({
        at: now,
        accountId: account.id,
        action: 'totp_change_confirm_failed',
        caseId: null,
        ip,
      });
      throw new CourierError('DESK_TOTP_CONFIRM_FAILED');
    }
    if (!(await this.store.confirmPendingTotpSecret(account.id, pending)))
      throw new CourierError('DESK_TOTP_CHANGE_NOT_STARTED');
    // The confirming code counts as used: it cannot also open a login.
    await this.store.useTotpStep(account.id, totp.counter({ timestamp: now }) + delta);
    await this.store.audit({ at: now, accountId: account.id, action: 'totp_changed', caseId: null, ip });
  }

  /** Drops a waiting TOTP secret (the person keeps the old one); nothing to drop is no error. */
  async cancelTotpChange(account: DeskAccountRow, ip = 'unknown'): Promise<void> {
    await this.require(account, 'totp_change', null, ...DESK_ROLES);
    if (!(await this.store.pendingTotpSecret(account.id))) return;
    await this.store.setPendingTotpSecret(account.id, null);
    await this.store.audit({
      at: this.clock.now(),
      accountId: account.id,
      action: 'totp_change_cancelled',
      caseId: null,
      ip,
    });
  }

  /**
   * A staff member changes their own password (current password and TOTP code; at least 12
   * characters, as for new accounts). Every other session of the account ends; this one stays.
   */
  async changePassword(
    account: DeskAccountRow,
    token: string,
    input: { currentPassword: string; code: string; newPassword: string },
    ip = 'unknown',
  ): Promise<{ endedSessions: number }> {
    await this.require(account, 'password_change', null, ...DESK_ROLES);
    if (input.newPassword.length < 12) throw new CourierError('DESK_PASSWORD_TOO_SHORT');
    await this.reauthenticate(account, input.currentPassword, input.code, 'password_change', ip);
    await this.store.setPasswordHash(
      account.id,
      await argon2.hash(input.newPassword, { type: argon2.argon2id }),
    );
    const endedSessions = await this.store.deleteOtherSessions(account.id, hashToken(token));
    await this.store.audit({
      at: this.clock.now(),
      accountId: account.id,
      action: 'password_changed',
      caseId: null,
      ip,
    });
    return { endedSessions };
  }

  /** Refuses a step to anyone but staff with one of `roles`; a staff member's refusal is audited too. */
  private async require(
    account: DeskAccountRow,
    action: string,
    caseId: string | null,
    ...roles: DeskRole[]
  ): Promise<void> {
    if (account.kind === 'staff' && roles.some((r) => account.roles.includes(r))) return;
    await this.audit(account, `${action}_denied`, caseId);
    throw new CourierError('LEGAL_NOT_AUTHORIZED');
  }

  private async audit(account: DeskAccountRow, action: string, caseId: string | null): Promise<void> {
    if (account.kind === 'staff')
      await this.store.audit({ at: this.clock.now(), accountId: account.id, action, caseId });
  }

  /**
   * An authority submits its own request (as itself: the country, kind and name on its account);
   * intake staff enter one received by post. The reply is the case id and the status, which the
   * rules alone decide.
   */
  async submit(
    account: DeskAccountRow,
    request: unknown,
    document: Uint8Array,
  ): Promise<{ caseId: string; status: LegalCaseRow['status'] }> {
    if (account.kind === 'authority') {
      const authority = (request as { authority?: Record<string, unknown> } | null)?.authority;
      // Compared as the parser will read them: "de" is DE, surrounding spaces do not count.
      const said = (key: string) => {
        const value = authority?.[key];
        return typeof value === 'string' ? value.trim() : undefined;
      };
      const country = said('country');
      if (country !== undefined && country.toUpperCase() !== account.country)
        throw new CourierError('LEGAL_NOT_AUTHORIZED', {
          message: 'An authority submits requests for its own country.',
        });
      const kind = said('kind');
      const name = said('name');
      if (
        account.authorityKind === null ||
        (kind !== undefined && kind !== account.authorityKind) ||
        (name !== undefined && name !== account.displayName.trim())
      )
        throw new CourierError('LEGAL_NOT_AUTHORIZED', {
          message: 'An authority submits requests in the name and kind its desk account was verified with.',
        });
    } else {
      await this.require(account, 'submit', null, 'intake');
    }
    const { caseId, status } = await this.desk.submit(
      request,
      document,
      account.id,
      account.kind === 'authority' ? account.id : null,
    );
    await this.audit(account, 'submit', caseId);
    return { caseId, status };
  }

  async list(account: DeskAccountRow): Promise<CaseSummary[]> {
    const all = await this.cases.list();
    if (account.kind === 'authority')
      return all.filter((c) => c.authorityId === account.id).map(authoritySummary);
    await this.require(account, 'list', null, 'intake', 'reviewer', 'approver', 'auditor');
    await this.audit(account, 'list', null);
    // Auditors check the desk's work from its metadata; who was looked up is for those who work cases.
    const withTargets = account.roles.some((r) => r !== 'auditor' && r !== 'moderator');
    return all.map((c) => staffSummary(c, withTargets));
  }

  /**
   * One case: to the authority that filed it (any other authority gets LEGAL_CASE_NOT_FOUND, as for
   * a case that does not exist) and to staff who work or audit cases, each seeing what `list` shows
   * them and the actions their roles allow on the case in its current state.
   */
  async detail(account: DeskAccountRow, caseId: string): Promise<CaseDetail> {
    const c = await this.cases.byId(caseId);
    if (account.kind === 'authority') {
      if (!c || c.authorityId !== account.id) throw new CourierError('LEGAL_CASE_NOT_FOUND');
      const request = JSON.parse(c.request) as LegalRequest;
      return {
        summary: authoritySummary(c),
        request,
        targetCount: request.targets.length,
        documentSha256: c.documentSha256,
        actions: ['read_document', ...(c.package ? (['download_package'] as const) : [])],
      };
    }
    await this.require(account, 'read_case', caseId, 'intake', 'reviewer', 'approver', 'auditor');
    if (!c) throw new CourierError('LEGAL_CASE_NOT_FOUND');
    await this.audit(account, 'read_case', caseId);
    const works = account.roles.some((r) => r === 'intake' || r === 'reviewer' || r === 'approver');
    const approver = account.roles.includes('approver');
    const { targets, ...request } = JSON.parse(c.request) as LegalRequest;
    const { targets: found, accounts, ...decision } = JSON.parse(c.decision) as Decision;
    const approvedBy = await this.cases.approvals(caseId);
    const approvals = [];
    for (const id of approvedBy) {
      const staff = await this.store.accountById(id);
      approvals.push({ username: staff?.username ?? id, displayName: staff?.displayName ?? id });
    }
    const actions: CaseAction[] = [];
    if (works) actions.push('read_document');
    if (
      approver &&
      c.status === 'awaiting_approval' &&
      decision.outcome === 'eligible' &&
      !approvedBy.includes(account.id)
    )
      actions.push('approve');
    if (works && (c.status === 'awaiting_approval' || c.status === 'approved')) actions.push('decline');
    if (approver && c.status === 'approved') actions.push('produce');
    if (approver && c.package) actions.push('download_package');
    return {
      summary: staffSummary(c, works),
      request: works ? { ...request, targets } : request,
      targetCount: targets.length,
      documentSha256: c.documentSha256,
      decision: works ? { ...decision, targets: found, accounts } : decision,
      approvals,
      approvalsRequired: this.desk.approvalsRequired(),
      commitment: this.desk.commitment(c),
      actions,
    };
  }

  /** The court document of a case: to the authority that filed it, or to staff who work cases (not auditors). */
  async document(account: DeskAccountRow, caseId: string): Promise<Uint8Array> {
    const c = await this.cases.byId(caseId);
    if (account.kind === 'authority') {
      if (!c || c.authorityId !== account.id) throw new CourierError('LEGAL_CASE_NOT_FOUND');
    } else {
      await this.require(account, 'read_document', caseId, 'intake', 'reviewer', 'approver');
      if (!c) throw new CourierError('LEGAL_CASE_NOT_FOUND');
      await this.audit(account, 'read_document', caseId);
    }
    const document = await this.cases.document(caseId);
    if (!document) throw new CourierError('LEGAL_CASE_NOT_FOUND');
    return document;
  }

  async approve(account: DeskAccountRow, caseId: string) {
    await this.require(account, 'approve', caseId, 'approver');
    await this.audit(account, 'approve', caseId);
    return this.desk.approve(caseId, account.id);
  }

  async decline(account: DeskAccountRow, caseId: string, reason: string) {
    // Any staff member who works cases may decline one (P6: disclosure is discretionary); auditors
    // only read, so that the people who check the desk take no part in its decisions.
    await this.require(account, 'decline', caseId, 'intake', 'reviewer', 'approver');
    await this.audit(account, 'decline', caseId);
    await this.desk.decline(caseId, account.id, reason);
  }

  async produce(account: DeskAccountRow, caseId: string) {
    await this.require(account, 'produce', caseId, 'approver');
    await this.audit(account, 'produce', caseId);
    return this.desk.produce(caseId);
  }

  /** The signed package: to the authority that asked, or to approvers (auditors see metadata only). */
  async package(account: DeskAccountRow, caseId: string): Promise<string> {
    const c = await this.cases.byId(caseId);
    if (!c) throw new CourierError('LEGAL_CASE_NOT_FOUND');
    if (account.kind === 'authority' ? c.authorityId !== account.id : !account.roles.includes('approver')) {
      await this.audit(account, 'download_package_denied', caseId);
      throw new CourierError(account.kind === 'authority' ? 'LEGAL_CASE_NOT_FOUND' : 'LEGAL_NOT_AUTHORIZED');
    }
    await this.audit(account, 'download_package', caseId);
    if (!c.package) throw new CourierError('LEGAL_CASE_STATE', { details: { status: c.status } });
    return c.package;
  }

  async auditLog(account: DeskAccountRow) {
    await this.require(account, 'read_audit', null, 'auditor');
    await this.audit(account, 'read_audit', null);
    return this.store.auditLog(500);
  }
}
