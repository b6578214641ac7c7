import type { Kysely } from 'kysely';
import type { PolicyAcceptanceStore } from '../ports.ts';
import type { Database } from '../schema.ts';

export class KyselyPolicyAcceptanceStore implements PolicyAcceptanceStore {
  constructor(private readonly db: Kysely<Database>) {}

  async accept(accountId: string, version: string, at: number): Promise<void> {
    await this.db
      .insertInto('policy_acceptances')
      .values({ account_id: accountId, version, accepted_at: at })
      .onConflict((oc) => oc.columns(['account_id', 'version']).doNothing())
      .execute();
  }

  async accepted(accountId: string): Promise<{ version: string; acceptedAt: number }[]> {
    const rows = await this.db
      .selectFrom('policy_acceptances')
      .select(['version', 'accepted_at'])
      .where('account_id', '=', accountId)
      .orderBy('accepted_at')
      .execute();
    return rows.map((r) => ({ version: r.version, acceptedAt: Number(r.accepted_at) }));
  }
}
