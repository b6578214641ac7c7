import {
  CourierError,
  type FileReportBody,
  type FileReportReply,
  REPORT_LIMITS,
  REPORT_REASONS,
} from '@courier/protocol';
import type { Bus } from '../bus/ports.ts';
import type { TransparencyLog } from '../transparency/transparency-log.ts';
import { rowSuspends } from './suspension-gate.ts';
import type { Clock } from '../deps.ts';
import type { Principal } from '../services/auth-service.ts';
import type {
  DeskAccountRow,
  ReportFilter,
  ReportItem,
  ReportRow,
  Storage,
  Stores,
  SuspensionRow,
} from '../storage/ports.ts';
import {
  ACTIVE,
  isSuspended,
  type SuspensionEffect,
  type SuspensionEvent,
  type SuspensionState,
  transition,
} from './suspension-machine.ts';

const LIST_LIMIT = 200;
const DAY_MS = 86_400_000;

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

const toState = (row: SuspensionRow | undefined): SuspensionState => {
  if (!row) return ACTIVE;
  switch (row.state) {
    case 'proposed':
      return { kind: 'proposed', by: row.proposedBy, at: row.proposedAt, reportId: row.reportId };
    case 'suspended':
      return { kind: 'suspended', since: row.suspendedAt ?? row.proposedAt, reportId: row.reportId };
    case 'lift_proposed':
      return {
        kind: 'lift_proposed',
        by: row.proposedBy,
        at: row.proposedAt,
        since: row.suspendedAt ?? row.proposedAt,
        reportId: row.reportId,
      };
  }
};

/** The row for a state that is not `active` (the actor and time of the step that led to it). */
const toRow = (
  accountId: string,
  state: Exclude<SuspensionState, { kind: 'active' }>,
  event: SuspensionEvent,
  version: number,
): SuspensionRow => ({
  accountId,
  state: state.kind,
  reportId: state.reportId,
  proposedBy: state.kind === 'suspended' ? event.staff : state.by,
  proposedAt: state.kind === 'suspended' ? event.at : state.at,
  suspendedAt: state.kind === 'proposed' ? null : state.since,
  version,
});

/** A report in the desk's queue: who, what, when, without the forwarded messages. */
export interface ReportSummary {
  reportId: string;
  receivedAt: number;
  state: ReportRow['state'];
  reason: string;
  chatId: string | null;
  reporterAccountId: string | null;
  reportedAccountId: string | null;
  messageCount: number;
  handledBy: string | null;
  handledAt: number | null;
  /** The reported account's suspension state now ('active' when none). */
  suspension: SuspensionState['kind'];
}

/** One report as a moderator reads it: the summary, the comment and exactly what was forwarded. */
export interface ReportDetail extends ReportSummary {
  comment: string | null;
  messages: ReportItem[];
}

export interface SuspensionView {
  accountId: string;
  state: SuspensionState['kind'];
  reportId: string | null;
  /** The staff member whose proposal is open (the approver must be someone else). */
  proposedBy: string | null;
  proposedAt: number | null;
  suspendedAt: number | null;
}

const viewOf = (accountId: string, state: SuspensionState): SuspensionView => ({
  accountId,
  state: state.kind,
  reportId: state.kind === 'active' ? null : state.reportId,
  proposedBy: state.kind === 'proposed' || state.kind === 'lift_proposed' ? state.by : null,
  proposedAt: state.kind === 'proposed' || state.kind === 'lift_proposed' ? state.at : null,
  suspendedAt: state.kind === 'suspended' || state.kind === 'lift_proposed' ? state.since : null,
});

export interface ModerationLimits {
  perAccountPerWindow: number;
  windowMs: number;
}

/**
 * Reports and suspensions (issue 12). A person files a report with the messages they chose to
 * forward (the one plaintext the server holds, by their consent); staff with the `moderator` role
 * read the queue, mark reports handled, and suspend an account (or lift a suspension) in two steps
 * by two different people. Every staff step goes to the desk's audit log. This service is not part
 * of the legal desk: the disclosure port has no path to it (test/legal-isolation.test.ts).
 */
export class ModerationService {
  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly random: (bytes: number) => Uint8Array,
    private readonly limits: ModerationLimits,
    /** Where suspensions are counted in public (a leaf without personal data); absent in unit tests. */
    private readonly log?: Pick<TransparencyLog, 'append'>,
  ) {}

  /** Checks and stores a report; the reply is its id. */
  async file(principal: Principal, body: FileReportBody): Promise<FileReportReply> {
    const invalid = (message: string) => new CourierError('REPORT_INVALID', { message });
    if (!(REPORT_REASONS as readonly string[]).includes(body.reason))
      throw invalid(`The reason is one of ${REPORT_REASONS.join(', ')}.`);
    if (body.messages.length > REPORT_LIMITS.maxMessages)
      throw invalid(`A report forwards at most ${REPORT_LIMITS.maxMessages} messages.`);
    for (const m of body.messages) {
      if (m.text.length === 0 || m.text.length > REPORT_LIMITS.maxTextLength)
        throw invalid(`A forwarded message has 1 to ${REPORT_LIMITS.maxTextLength} characters.`);
      if (!Number.isSafeInteger(m.sentAtMs) || m.sentAtMs < 0)
        throw invalid('A forwarded message has its sending time in milliseconds.');
    }
    if ((body.comment?.length ?? 0) > REPORT_LIMITS.maxCommentLength)
      throw invalid(`A comment has at most ${REPORT_LIMITS.maxCommentLength} characters.`);
    const chat = await this.storage.groups.byId(body.chatId);
    if (!chat || !(await this.storage.groups.isMember(chat.id, principal.accountId)))
      throw new CourierError('GROUP_NOT_FOUND');
    let reported = body.reportedAccountId ?? null;
    if (reported === null && chat.kind === 'direct') {
      reported =
        (await this.storage.groups.members(chat.id)).find((m) => m.accountId !== principal.accountId)
          ?.accountId ?? null;
    }
    if (reported === principal.accountId) throw invalid('A report names someone other than its reporter.');
    if (reported !== null && !(await this.storage.accounts.byId(reported)))
      throw new CourierError('ACCOUNT_NOT_FOUND');
    const now = this.clock.now();
    if (
      !(await this.storage.rateLimits.take(
        `report:${principal.accountId}`,
        now,
        this.limits.windowMs,
        this.limits.perAccountPerWindow,
      ))
    )
      throw new CourierError('REPORT_RATE_LIMITED', { details: { retryAfterMs: this.limits.windowMs } });
    const row: ReportRow = {
      id: `r_${base64url(this.random(16))}`,
      reporterAccountId: principal.accountId,
      reportedAccountId: reported,
      chatId: chat.id,
      reason: body.reason,
      comment: body.comment && body.comment.length > 0 ? body.comment : null,
      // Exactly the three fields of each forwarded message, nothing else the client sent.
      messages: body.messages.map((m) => ({
        senderAccountId: m.senderAccountId,
        sentAtMs: m.sentAtMs,
        text: m.text,
      })),
      createdAt: now,
      state: 'open',
      handledBy: null,
      handledAt: null,
    };
    await this.storage.reports.insert(row);
    return { reportId: row.id, receivedAtMs: now };
  }

  /** Reports this account filed (its data export). */
  async filedBy(accountId: string): Promise<ReportRow[]> {
    return this.storage.reports.byReporter(accountId);
  }

  private async require(staff: DeskAccountRow, action: string, subject: string | null): Promise<void> {
    if (staff.kind === 'staff' && staff.roles.includes('moderator')) return;
    await this.audit(staff, `${action}_denied`, subject);
    throw new CourierError('LEGAL_NOT_AUTHORIZED');
  }

  private async audit(staff: DeskAccountRow, action: string, subject: string | null): Promise<void> {
    if (staff.kind === 'staff')
      await this.storage.desk.audit({ at: this.clock.now(), accountId: staff.id, action, caseId: subject });
  }

  private async summaries(rows: ReportRow[]): Promise<ReportSummary[]> {
    const states = new Map<string, SuspensionState['kind']>();
    for (const id of new Set(rows.map((r) => r.reportedAccountId).filter((id) => id !== null)))
      states.set(id, toState(await this.storage.suspensions.byAccount(id)).kind);
    return rows.map((r) => ({
      reportId: r.id,
      receivedAt: r.createdAt,
      state: r.state,
      reason: r.reason,
      chatId: r.chatId,
      reporterAccountId: r.reporterAccountId,
      reportedAccountId: r.reportedAccountId,
      messageCount: r.messages.length,
      handledBy: r.handledBy,
      handledAt: r.handledAt,
      suspension: r.reportedAccountId === null ? 'active' : (states.get(r.reportedAccountId) ?? 'active'),
    }));
  }

  /** The queue, newest first, filtered by state, reason or reported account. */
  async list(staff: DeskAccountRow, filter: Omit<ReportFilter, 'limit'>): Promise<ReportSummary[]> {
    await this.require(staff, 'list_reports', null);
    await this.audit(staff, 'list_reports', null);
    return this.summaries(await this.storage.reports.list({ ...filter, limit: LIST_LIMIT }));
  }

  /** One report with what was forwarded; reading it is audited. */
  async read(staff: DeskAccountRow, reportId: string): Promise<ReportDetail> {
    await this.require(staff, 'read_report', reportId);
    const row = await this.storage.reports.byId(reportId);
    if (!row) throw new CourierError('REPORT_NOT_FOUND');
    await this.audit(staff, 'read_report', reportId);
    const [summary] = await this.summaries([row]);
    return { ...summary!, comment: row.comment, messages: row.messages };
  }

  async markHandled(staff: DeskAccountRow, reportId: string): Promise<void> {
    await this.require(staff, 'handle_report', reportId);
    const row = await this.storage.reports.byId(reportId);
    if (!row) throw new CourierError('REPORT_NOT_FOUND');
    if (!(await this.storage.reports.markHandled(reportId, staff.id, this.clock.now())))
      throw new CourierError('MODERATION_STATE', { details: { state: row.state, step: 'handle' } });
    await this.audit(staff, 'handle_report', reportId);
  }

  async suspensions(staff: DeskAccountRow): Promise<SuspensionView[]> {
    await this.require(staff, 'list_suspensions', null);
    await this.audit(staff, 'list_suspensions', null);
    return (await this.storage.suspensions.list()).map((row) => viewOf(row.accountId, toState(row)));
  }

  /** Proposes to suspend an account (optionally citing a report); a different moderator approves. */
  async propose(staff: DeskAccountRow, accountId: string, reportId: string | null): Promise<SuspensionView> {
    await this.require(staff, 'propose_suspension', accountId);
    if (!(await this.storage.accounts.byId(accountId))) throw new CourierError('ACCOUNT_NOT_FOUND');
    if (reportId !== null && !(await this.storage.reports.byId(reportId)))
      throw new CourierError('REPORT_NOT_FOUND');
    return this.step(staff, accountId, { kind: 'propose', staff: staff.id, at: this.clock.now(), reportId });
  }

  async proposeLift(staff: DeskAccountRow, accountId: string): Promise<SuspensionView> {
    await this.require(staff, 'propose_lift', accountId);
    return this.step(staff, accountId, { kind: 'propose_lift', staff: staff.id, at: this.clock.now() });
  }

  /** Approves the open proposal (suspend or lift); the proposer cannot (MODERATION_SAME_STAFF). */
  async approve(staff: DeskAccountRow, accountId: string): Promise<SuspensionView> {
    await this.require(staff, 'approve_suspension', accountId);
    return this.step(staff, accountId, { kind: 'approve', staff: staff.id, at: this.clock.now() });
  }

  async withdraw(staff: DeskAccountRow, accountId: string): Promise<SuspensionView> {
    await this.require(staff, 'withdraw_suspension', accountId);
    return this.step(staff, accountId, { kind: 'withdraw', staff: staff.id, at: this.clock.now() });
  }

  /**
   * One transition, written with a conditional update (of two staff racing, one wins; the other
   * hears MODERATION_STATE), together with its effect: a suspension ends every session of the
   * account (remembered by hash, so a device presenting one hears ACCOUNT_SUSPENDED) and then
   * closes its live connections; a lift forgets those sessions (the person signs in again).
   */
  private async step(
    staff: DeskAccountRow,
    accountId: string,
    event: SuspensionEvent,
  ): Promise<SuspensionView> {
    const action = {
      propose: 'propose_suspension',
      propose_lift: 'propose_lift',
      approve: 'approve_suspension',
      withdraw: 'withdraw_suspension',
    }[event.kind];
    let result: { state: SuspensionState; effect: SuspensionEffect; devices: string[] };
    try {
      result = await this.storage.transaction(async (tx) => {
        const row = await tx.suspensions.byAccount(accountId);
        const next = transition(toState(row), event);
        const written =
          next.state.kind === 'active'
            ? row !== undefined && (await tx.suspensions.delete(accountId, row.version))
            : await tx.suspensions.put(
                toRow(accountId, next.state, event, (row?.version ?? 0) + 1),
                row?.version,
              );
        if (!written) throw new CourierError('MODERATION_STATE', { details: { step: event.kind } });
        const devices = await this.applyEffect(tx, accountId, next.effect);
        return { ...next, devices };
      });
    } catch (error) {
      if (error instanceof CourierError && error.code.startsWith('MODERATION_'))
        await this.audit(staff, `${action}_refused`, accountId);
      throw error;
    }
    await this.audit(staff, result.effect === null ? action : `${action}:${result.effect}`, accountId);
    // Once more after the commit: a sign-in that ran beside the approval (and so found no suspension
    // inside its own transaction) committed its session before this read, or sees the suspension
    // itself when it checks again after its commit (AuthService.verify).
    if (result.effect === 'suspended')
      result.devices = [
        ...new Set([
          ...result.devices,
          ...(await this.storage.transaction(async (tx) =>
            // Unless a lift was approved in between.
            rowSuspends(await tx.suspensions.byAccount(accountId))
              ? this.applyEffect(tx, accountId, 'suspended')
              : [],
          )),
        ]),
      ];
    if (result.devices.length > 0)
      await this.bus.publish({ type: 'devices_revoked', deviceIds: result.devices });
    if (result.effect !== null) await this.publish(result.effect, result.state, event.at);
    return viewOf(accountId, result.state);
  }

  /**
   * Counts a suspension or lift in the transparency log: the day (not the moment, so that the leaf
   * is harder to match with one person's disappearance), the action, and the cited report's reason
   * category from a closed set. No account, staff member or report id.
   */
  private async publish(effect: 'suspended' | 'lifted', state: SuspensionState, at: number): Promise<void> {
    if (!this.log) return;
    const reportId = state.kind === 'active' ? null : state.reportId;
    const cited = reportId === null ? undefined : await this.storage.reports.byId(reportId);
    const reason =
      cited && (REPORT_REASONS as readonly string[]).includes(cited.reason) ? cited.reason : 'none';
    await this.log.append({ v: 1, type: 'suspension', at: at - (at % DAY_MS), action: effect, reason });
  }

  /** Ends the sessions of a newly suspended account (returns its devices, to close them live). */
  private async applyEffect(tx: Stores, accountId: string, effect: SuspensionEffect): Promise<string[]> {
    if (effect === 'lifted') {
      await tx.suspensions.forgetSessions(accountId);
      return [];
    }
    if (effect !== 'suspended') return [];
    const sessions = await tx.sessions.byAccount(accountId);
    await tx.suspensions.rememberSessions(
      accountId,
      sessions.map((s) => s.tokenHash),
    );
    const devices = [...new Set(sessions.map((s) => s.deviceId))];
    for (const deviceId of devices) await tx.sessions.deleteByDevice(deviceId);
    return devices;
  }

  /** Whether the account is suspended now (for the desk and tests). */
  async isSuspended(accountId: string): Promise<boolean> {
    return isSuspended(toState(await this.storage.suspensions.byAccount(accountId)));
  }
}
