import { createHash, randomBytes } from 'node:crypto';
import { CourierError } from '@courier/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Clock } from '../deps.ts';
import type { LegalCaseRow, LegalCaseStore } from '../storage/ports.ts';
import type { TransparencyLog } from '../transparency/transparency-log.ts';
import type { DisclosurePort } from './disclosure-port.ts';
import { type LegalRequest, LegalRequestInvalid, parseLegalRequest } from './legal-request.ts';
import { type DisclosurePolicy, isDisclosable } from './policy.ts';
import { type Decision, evaluate, type LegalFacts } from './policy-engine.ts';

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

  private commitment(c: Pick<LegalCaseRow, 'id' | 'commitmentSalt'>): string {
    return sha256(`${c.commitmentSalt}:${c.id}`);
  }

  /** Takes a request with its court document (stored; its SHA-256 recorded) and decides on it. */
  async submit(
    input: unknown,
    document: Uint8Array,
    submittedBy: string,
    authorityId: string | null = null,
  ): Promise<{ caseId: string; decision: Decision }> {
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
    const decision = await evaluate(request, policy, this.deps.facts, now);
    const row: LegalCaseRow = {
      id: `c_${randomBytes(12).toString('base64url')}`,
      receivedAt: now,
      status: decision.outcome === 'eligible' ? 'awaiting_approval' : decision.outcome,
      request: JSON.stringify(request),
      decision: JSON.stringify(decision),
      documentSha256,
      commitmentSalt: randomBytes(16).toString('hex'),
      submittedBy,
      package: null,
      closedAt: decision.outcome === 'eligible' ? null : now,
      authorityId,
    };
    // Counted first: a request is in the log even if what follows fails.
    await this.deps.log.append({
      v: 1,
      type: 'request',
      at: now,
      case: this.commitment(row),
      country: request.authority.country,
      instrument: request.instrument.type,
      outcome: decision.outcome,
      reasons: decision.reasons,
      requested: [...new Set(request.requestedCategories.map((c) => c.trim().toLowerCase()))].sort(),
      eligible: decision.disclosable,
      accountsSpecified: request.targets.length,
      policyVersion: decision.policyVersion,
    });
    await this.deps.cases.insert(row);
    await this.deps.cases.putDocument(row.id, document);
    return { caseId: row.id, decision };
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
      reason: reason.slice(0, 200),
    });
    await this.deps.cases.update(caseId, { status: 'declined', closedAt: now });
    await this.deps.cases.releaseHolds(caseId);
    void staffId;
  }

  /** Produces the signed package: only phone numbers and IP records, only what the decision allows. */
  async produce(caseId: string): Promise<{ package: string; packageHash: string }> {
    const row = await this.open(caseId, 'approved');
    const request = JSON.parse(row.request) as LegalRequest;
    const decision = JSON.parse(row.decision) as Decision;
    const categories = decision.disclosable.filter(isDisclosable);
    const from = Date.parse(request.timeRange.from);
    const to = Date.parse(request.timeRange.to);
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
