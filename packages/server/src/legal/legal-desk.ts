import { createHash, randomBytes } from 'node:crypto';
import { CourierError } from '@courier/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Clock } from '../deps.ts';
import type { LegalCaseRow, LegalCaseStore } from '../storage/ports.ts';
import type { TransparencyLog } from '../transparency/transparency-log.ts';
import type { DisclosurePort } from './disclosure-port.ts';
import {
  type LegalRequest,
  LegalRequestInvalid,
  normalizeCategory,
  parseLegalRequest,
} from './legal-request.ts';
import { type DisclosurePolicy, isDisclosable } from './policy.ts';
import { type Decision, evaluate, type LegalFacts, retainedIpRange } from './policy-engine.ts';

/**
 * Every string a public leaf may carry besides the policy version, the country (ISO 3166-1) and the
 * instrument type (a fixed enum): rule outcomes and reason codes, requested and eligible
 * categories as a closed set (anything else is `content` or `other`), and the one decline code.
 * Free text (categories as written, a decline's reason) stays in the case record.
 */
export const PUBLIC_LEAF_VOCABULARY = {
  outcomes: ['not_considered', 'rejected', 'eligible'],
  reasons: [
    'JURISDICTION_NOT_CONSIDERED',
    'LEGAL_PROCESS_INSUFFICIENT',
    'NOT_TERROR_SUSPECT',
    'NOT_CRIMINAL_SUSPECT',
    'NOT_SPECIFIC',
    'CONTENT_NEVER_DISCLOSED',
    'CATEGORY_NOT_DISCLOSABLE',
    'NO_DATA_RETAINED',
  ],
  categories: ['phone_number', 'ip_addresses', 'content', 'other'],
  declineReasons: ['DECLINED'],
} as const;

/** Requested categories as the log shows them: the disclosable ones by name, the rest as `content` or `other`. */
function publicCategories(requested: readonly string[], policy: DisclosurePolicy): string[] {
  const words = requested.map((c) => {
    const category = normalizeCategory(c);
    if (isDisclosable(category)) return category;
    return policy.contentCategories.includes(category) ? 'content' : 'other';
  });
  return [...new Set(words)].sort();
}

/**
 * Asks the facts about every target in the same way, found or not (each resolved, then its IP
 * records checked, a target naming no account under an id no account has), and answers the
 * policy engine from that: the lookups a submission makes, and so the time it takes, do not
 * depend on what they find.
 */
async function uniformLookup(
  facts: LegalFacts,
  request: LegalRequest,
  policy: DisclosurePolicy,
  now: number,
): Promise<LegalFacts> {
  const range = retainedIpRange(request.timeRange, policy, now) ?? {
    from: Date.parse(request.timeRange.from),
    to: Date.parse(request.timeRange.to),
  };
  const accounts = new Map<string, string | undefined>();
  const ips = new Map<string, boolean>();
  for (const target of request.targets) {
    const accountId = await facts.resolve(target);
    const retained = await facts.hasIpRecords(accountId ?? NO_ACCOUNT, range.from, range.to);
    accounts.set(JSON.stringify(target), accountId);
    if (accountId !== undefined) ips.set(accountId, retained);
  }
  return {
    resolve: async (target) => accounts.get(JSON.stringify(target)),
    hasIpRecords: async (accountId) => ips.get(accountId) ?? false,
  };
}
/** An account id no account has (ids are `u_` followed by base64url). */
const NO_ACCOUNT = 'no account';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface LegalDeskDeps {
  cases: LegalCaseStore;
  log: TransparencyLog;
  port: DisclosurePort;
  facts: LegalFacts;
  policy: () => DisclosurePolicy;
  clock: Clock;
  signingKey: Uint8Array;
}

/**
 * The legal desk's workflow: intake → decision (the policy engine) → two approvals by two
 * different approvers → production through the disclosure port, signed. Every step is a leaf in
 * the public log; case details appear there only as a salted commitment. The desk is built from
 * its case store, the log and the disclosure port: it has no path to messages, media or keys.
 */
export class LegalDesk {
  constructor(private readonly deps: LegalDeskDeps) {}

  /** How many different approvers a case needs under the policy in force. */
  approvalsRequired(): number {
    return this.deps.policy().approvalsRequired;
  }

  /** The case as its public leaves name it: a salted commitment (staff use it to find them in the log). */
  commitment(c: Pick<LegalCaseRow, 'id' | 'commitmentSalt'>): string {
    return sha256(`${c.commitmentSalt}:${c.id}`);
  }

  /** Takes a request with its court document (stored; its SHA-256 recorded) and decides on it. */
  async submit(
    input: unknown,
    document: Uint8Array,
    submittedBy: string,
    authorityId: string | null = null,
  ): Promise<{ caseId: string; status: LegalCaseRow['status']; decision: Decision }> {
    let request: LegalRequest;
    try {
      request = parseLegalRequest(input);
    } catch (error) {
      if (error instanceof LegalRequestInvalid) {
        throw new CourierError('LEGAL_REQUEST_INVALID', { details: { issues: error.issues }, cause: error });
      }
      throw error;
    }
    if (document.byteLength === 0) {
      throw new CourierError('LEGAL_REQUEST_INVALID', {
        details: { issues: ['document: the court document is missing'] },
      });
    }
    const documentSha256 = createHash('sha256').update(document).digest('hex');
    const now = this.deps.clock.now();
    const policy = this.deps.policy();
    // The rules alone decide the case's status and its public leaf: nothing the submitter can see
    // depends on whether a target has an account. Facts are looked up only for a case the rules
    // allow, and what they say is for staff (the case record), never for the authority or the log.
    const rules = await evaluate(request, policy, undefined, now);
    const decision =
      rules.outcome === 'eligible'
        ? await evaluate(request, policy, await uniformLookup(this.deps.facts, request, policy, now), now)
        : rules;
    const status: LegalCaseRow['status'] = rules.outcome === 'eligible' ? 'awaiting_approval' : rules.outcome;
    const row: LegalCaseRow = {
      id: `c_${randomBytes(12).toString('base64url')}`,
      receivedAt: now,
      status,
      request: JSON.stringify(request),
      decision: JSON.stringify(decision),
      documentSha256,
      commitmentSalt: randomBytes(16).toString('hex'),
      submittedBy,
      package: null,
      closedAt: rules.outcome === 'eligible' ? null : now,
      authorityId,
      declineReason: null,
    };
    // Counted first: a request is in the log even if what follows fails.
    await this.deps.log.append({
      v: 1,
      type: 'request',
      at: now,
      case: this.commitment(row),
      country: request.authority.country,
      instrument: request.instrument.type,
      outcome: rules.outcome,
      reasons: rules.reasons,
      requested: publicCategories(request.requestedCategories, policy),
      eligible: rules.disclosable,
      accountsSpecified: request.targets.length,
      policyVersion: rules.policyVersion,
    });
    await this.deps.cases.insert(row);
    await this.deps.cases.putDocument(row.id, document);
    return { caseId: row.id, status, decision };
  }

  private async open(caseId: string, ...states: LegalCaseRow['status'][]): Promise<LegalCaseRow> {
    const row = await this.deps.cases.byId(caseId);
    if (!row) throw new CourierError('LEGAL_CASE_NOT_FOUND');
    if (!states.includes(row.status))
      throw new CourierError('LEGAL_CASE_STATE', { details: { status: row.status } });
    return row;
  }

  /** An approval by one approver; the case is approved once enough distinct approvers agree (P6). */
  async approve(caseId: string, approverId: string): Promise<{ approvals: number; approved: boolean }> {
    const row = await this.open(caseId, 'awaiting_approval');
    // The rules allowed it, but the lookup found nothing to disclose (no target has an account, or
    // no records remain): staff see that in the findings, and such a case can only be declined.
    const decision = JSON.parse(row.decision) as Decision;
    if (decision.outcome !== 'eligible')
      throw new CourierError('LEGAL_CASE_STATE', {
        details: { status: row.status, findings: decision.outcome, reasons: decision.reasons },
      });
    if (!(await this.deps.cases.approve(caseId, approverId, this.deps.clock.now()))) {
      throw new CourierError('LEGAL_ALREADY_APPROVED');
    }
    const approvals = (await this.deps.cases.approvals(caseId)).length;
    await this.deps.log.append({
      v: 1,
      type: 'approval',
      at: this.deps.clock.now(),
      case: this.commitment(row),
      approvals,
    });
    const approved = approvals >= this.deps.policy().approvalsRequired;
    if (approved) await this.deps.cases.update(caseId, { status: 'approved' });
    return { approvals, approved };
  }

  /** Disclosure is discretionary ("may"): any staff member may decline an eligible case. */
  async decline(caseId: string, staffId: string, reason: string): Promise<void> {
    const row = await this.open(caseId, 'awaiting_approval', 'approved');
    const now = this.deps.clock.now();
    await this.deps.log.append({
      v: 1,
      type: 'rejection',
      at: now,
      case: this.commitment(row),
      // The reason as written may name people or numbers: it stays in the case record.
      reason: PUBLIC_LEAF_VOCABULARY.declineReasons[0],
    });
    await this.deps.cases.update(caseId, {
      status: 'declined',
      closedAt: now,
      declineReason: reason.slice(0, 200),
    });
    await this.deps.cases.releaseHolds(caseId);
    void staffId;
  }

  /** Produces the signed package: only phone numbers and IP records, only what the decision allows. */
  async produce(caseId: string): Promise<{ package: string; packageHash: string }> {
    const row = await this.open(caseId, 'approved');
    const request = JSON.parse(row.request) as LegalRequest;
    const decision = JSON.parse(row.decision) as Decision;
    const categories = decision.disclosable.filter(isDisclosable);
    // The decided range (the request's, within the retention window), never the request's own.
    const range = decision.ipRange ?? request.timeRange;
    const from = Date.parse(range.from);
    const to = Date.parse(range.to);
    const accounts = [];
    for (const accountId of decision.accounts) {
      const entry: { accountId: string; phone_number?: string; ip_addresses?: unknown[] } = { accountId };
      if (categories.includes('phone_number')) {
        const phone = await this.deps.port.phoneNumber(caseId, accountId);
        if (phone) entry.phone_number = phone;
      }
      if (categories.includes('ip_addresses'))
        entry.ip_addresses = await this.deps.port.ipRecords(caseId, accountId, from, to);
      accounts.push(entry);
    }
    const now = this.deps.clock.now();
    const payload = JSON.stringify({
      caseId,
      caseReference: request.instrument.reference,
      policyVersion: decision.policyVersion,
      producedAt: new Date(now).toISOString(),
      categories,
      accounts,
    });
    const signature = Buffer.from(
      ed25519.sign(new TextEncoder().encode(payload), this.deps.signingKey),
    ).toString('base64');
    const publicKey = Buffer.from(ed25519.getPublicKey(this.deps.signingKey)).toString('base64');
    const pkg = JSON.stringify({ payload, signature, publicKey, algorithm: 'Ed25519' });
    const packageHash = sha256(payload);
    await this.deps.log.append({
      v: 1,
      type: 'production',
      at: now,
      case: this.commitment(row),
      categories,
      accountsAffected: accounts.length,
      packageHash,
    });
    await this.deps.cases.update(caseId, { status: 'produced', package: pkg, closedAt: now });
    // The case is closed: what a legal hold kept for it goes.
    await this.deps.cases.releaseHolds(caseId);
    return { package: pkg, packageHash };
  }
}
