import { normalizePhone } from '../services/phone.ts';
import type { Storage } from '../storage/ports.ts';
import type { LegalTarget } from './legal-request.ts';
import type { LegalFacts } from './policy-engine.ts';

/** The facts the policy engine may ask, answered from storage (accounts and connection records only). */
export class StorageLegalFacts implements LegalFacts {
  constructor(private readonly storage: Pick<Storage, 'accounts' | 'connections'>) {}

  async resolve(target: LegalTarget): Promise<string | undefined> {
    if ('userId' in target) return (await this.storage.accounts.byId(target.userId))?.id;
    if ('username' in target)
      return (await this.storage.accounts.byUsername(target.username.replace(/^@/, '')))?.id;
    let phone: string;
    try {
      phone = normalizePhone(target.phone);
    } catch {
      return undefined;
    }
    return (await this.storage.accounts.byPhone(phone))?.id;
  }

  async hasIpRecords(accountId: string, from: number, to: number): Promise<boolean> {
    const records = await this.storage.connections.detailsByAccount(accountId);
    return records.some((r) => r.firstSeen <= to && r.at >= from);
  }
}
