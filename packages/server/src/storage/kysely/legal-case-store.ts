import type { Kysely, Selectable } from 'kysely';
import type { LegalCaseRow, LegalCaseStatus, LegalCaseStore, LegalHoldRow } from '../ports.ts';
import type { Database, LegalCasesTable, LegalHoldsTable } from '../schema.ts';
import { isUniqueViolation } from './unique-violation.ts';

const toRow = (r: Selectable<LegalCasesTable>): LegalCaseRow => ({
  id: r.id,
  receivedAt: Number(r.received_at),
  status: r.status as LegalCaseStatus,
  request: r.request,
  decision: r.decision,
  documentSha256: r.document_sha256,
  commitmentSalt: r.commitment_salt,
  submittedBy: r.submitted_by,
  package: r.package,
  closedAt: r.closed_at === null ? null : Number(r.closed_at),
  authorityId: r.authority_id,
  declineReason: r.decline_reason,
});

export class KyselyLegalCaseStore implements LegalCaseStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: LegalCaseRow): Promise<void> {
    await this.db
      .insertInto('legal_cases')
      .values({
        id: row.id,
        received_at: row.receivedAt,
        status: row.status,
        request: row.request,
        decision: row.decision,
        document_sha256: row.documentSha256,
        commitment_salt: row.commitmentSalt,
        submitted_by: row.submittedBy,
        package: row.package,
        closed_at: row.closedAt,
        authority_id: row.authorityId,
        decline_reason: row.declineReason ?? null,
      })
      .execute();
  }

  async byId(id: string): Promise<LegalCaseRow | undefined> {
    const r = await this.db.selectFrom('legal_cases').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRow(r);
  }

  async list(): Promise<LegalCaseRow[]> {
    return (await this.db.selectFrom('legal_cases').selectAll().orderBy('received_at').execute()).map(toRow);
  }

  async update(
    id: string,
    change: Partial<Pick<LegalCaseRow, 'status' | 'package' | 'closedAt' | 'declineReason'>>,
  ): Promise<void> {
    await this.db
      .updateTable('legal_cases')
      .set({
        ...(change.status === undefined ? {} : { status: change.status }),
        ...(change.package === undefined ? {} : { package: change.package }),
        ...(change.closedAt === undefined ? {} : { closed_at: change.closedAt }),
        ...(change.declineReason === undefined ? {} : { decline_reason: change.declineReason }),
      })
      .where('id', '=', id)
      .execute();
  }

  async approve(caseId: string, staffId: string, at: number): Promise<boolean> {
    try {
      await this.db
        .insertInto('legal_approvals')
        .values({ case_id: caseId, staff_id: staffId, approved_at: at })
        .execute();
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async approvals(caseId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('legal_approvals')
      .select('staff_id')
      .where('case_id', '=', caseId)
      .orderBy('approved_at')
      .execute();
    return rows.map((r) => r.staff_id);
  }

  async putDocument(caseId: string, content: Uint8Array): Promise<void> {
    await this.db.insertInto('legal_documents').values({ case_id: caseId, content }).execute();
  }

  async document(caseId: string): Promise<Uint8Array | undefined> {
    const r = await this.db
      .selectFrom('legal_documents')
      .select('content')
      .where('case_id', '=', caseId)
      .executeTakeFirst();
    return r && new Uint8Array(r.content);
  }

  async openCasesNaming(accountId: string): Promise<LegalCaseRow[]> {
    const rows = await this.db
      .selectFrom('legal_cases')
      .selectAll()
      .where('status', 'in', ['awaiting_approval', 'approved'])
      .execute();
    return rows
      .map(toRow)
      .filter((c) => (JSON.parse(c.decision) as { accounts: string[] }).accounts.includes(accountId));
  }

  async putHold(hold: LegalHoldRow): Promise<void> {
    await this.db
      .insertInto('legal_holds')
      .values({
        case_id: hold.caseId,
        account_id: hold.accountId,
        phone: hold.phone,
        ip_records: JSON.stringify(hold.ipRecords),
        created_at: hold.createdAt,
      })
      .onConflict((oc) => oc.columns(['case_id', 'account_id']).doNothing())
      .execute();
  }

  async hold(caseId: string, accountId: string): Promise<LegalHoldRow | undefined> {
    const r = await this.db
      .selectFrom('legal_holds')
      .selectAll()
      .where('case_id', '=', caseId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return r && toHold(r);
  }

  async holdsForAccount(accountId: string): Promise<LegalHoldRow[]> {
    return (
      await this.db.selectFrom('legal_holds').selectAll().where('account_id', '=', accountId).execute()
    ).map(toHold);
  }

  async releaseHolds(caseId: string): Promise<void> {
    await this.db.deleteFrom('legal_holds').where('case_id', '=', caseId).execute();
  }
}

const toHold = (r: Selectable<LegalHoldsTable>): LegalHoldRow => ({
  caseId: r.case_id,
  accountId: r.account_id,
  phone: r.phone,
  ipRecords: JSON.parse(r.ip_records) as LegalHoldRow['ipRecords'],
  createdAt: Number(r.created_at),
});
