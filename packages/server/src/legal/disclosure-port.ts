import type { Storage } from '../storage/ports.ts';

export interface IpRecord {
  ip: string;
  firstSeen: number;
  lastSeen: number;
}

/**
 * The only way from the legal desk to user data (P3): an account's phone number and its IP
 * connection records in a time range, each record's sightings clamped to the range. There is no method for anything else, and the
 * implementation is given only the account and connection stores.
 */
export interface DisclosurePort {
  phoneNumber(caseId: string, accountId: string): Promise<string | undefined>;
  ipRecords(caseId: string, accountId: string, from: number, to: number): Promise<IpRecord[]>;
}

/**
 * Reads the live account and its connection records; for an account erased while a case named it,
 * what the legal hold kept for that case (DESIGN P10).
 */
export class StorageDisclosurePort implements DisclosurePort {
  constructor(private readonly stores: Pick<Storage, 'accounts' | 'connections' | 'legalCases'>) {}

  async phoneNumber(caseId: string, accountId: string): Promise<string | undefined> {
    const live = await this.stores.accounts.byId(accountId);
    return live ? live.phone : (await this.stores.legalCases.hold(caseId, accountId))?.phone;
  }

  async ipRecords(caseId: string, accountId: string, from: number, to: number): Promise<IpRecord[]> {
    const live = await this.stores.accounts.byId(accountId);
    const records = live
      ? (await this.stores.connections.detailsByAccount(accountId)).map((r) => ({
          ip: r.ip,
          firstSeen: r.firstSeen,
          lastSeen: r.at,
        }))
      : ((await this.stores.legalCases.hold(caseId, accountId))?.ipRecords ?? []);
    // Clamped to [from, to]: a record's first and last sighting outside the range are not disclosed.
    return records
      .filter((r) => r.firstSeen <= to && r.lastSeen >= from)
      .map((r) => ({ ip: r.ip, firstSeen: Math.max(r.firstSeen, from), lastSeen: Math.min(r.lastSeen, to) }));
  }
}
