import type { Storage } from '../storage/ports.ts';

export interface IpRecord {
  ip: string;
  firstSeen: number;
  lastSeen: number;
}

/**
 * The only way from the legal desk to user data (P3): an account's phone number and its IP
 * connection records in a time range. There is no method for anything else, and the
 * implementation is given only the account and connection stores.
 */
export interface DisclosurePort {
  phoneNumber(accountId: string): Promise<string | undefined>;
  ipRecords(accountId: string, from: number, to: number): Promise<IpRecord[]>;
}

export class StorageDisclosurePort implements DisclosurePort {
  constructor(private readonly stores: Pick<Storage, 'accounts' | 'connections'>) {}

  async phoneNumber(accountId: string): Promise<string | undefined> {
    return (await this.stores.accounts.byId(accountId))?.phone;
  }

  async ipRecords(accountId: string, from: number, to: number): Promise<IpRecord[]> {
    const records = await this.stores.connections.detailsByAccount(accountId);
    return records
      .filter((r) => r.firstSeen <= to && r.at >= from)
      .map((r) => ({ ip: r.ip, firstSeen: r.firstSeen, lastSeen: r.at }));
  }
}
