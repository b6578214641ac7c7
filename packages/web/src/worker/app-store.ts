import type { GroupView, UserView } from '@courier/protocol';
import type { EndpointBookState } from '@courier/sdk';

/** The signed endpoint list, relays and links as last verified, and the endpoint that worked last. */
export type KeptEndpoints = EndpointBookState & { lastGood?: string };

/**
 * What the app keeps on the device beside the SDK's store (which holds the messages, the read
 * positions and the receipts): whether read receipts are on, the contacts whose keys changed (a
 * warning stays until the person looks at the safety number) or whom the person marked verified, and the last chat list,
 * people and direct-chat partners the server told (so that a load shows the chats at once, offline too).
 * One small IndexedDB database per device; the SDK's own store is not touched.
 */
const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

/** A person as last looked up, and when. */
export interface KeptPerson {
  user: UserView;
  fetchedAtMs: number;
}

export class AppStore {
  private constructor(
    private readonly db: IDBDatabase,
    private readReceiptsOn: boolean,
    private readonly changedKeys: Set<string>,
    private readonly verifiedPeople: Set<string>,
    private readonly cached: {
      groups: GroupView[];
      people: Record<string, KeptPerson>;
      peers: Record<string, string>;
      endpoints: KeptEndpoints;
    },
  ) {}

  static async open(deviceId: string): Promise<AppStore> {
    const open = indexedDB.open(`courier-app-${deviceId}`, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    const db = await request(open);
    const kv = db.transaction('kv').objectStore('kv');
    const readReceipts = (await request(kv.get('readReceipts'))) as boolean | undefined;
    const changed = (await request(kv.get('changedKeys'))) as string[] | undefined;
    const verified = (await request(kv.get('verified'))) as string[] | undefined;
    const groups = (await request(kv.get('groups'))) as GroupView[] | undefined;
    const people = (await request(kv.get('people'))) as Record<string, KeptPerson> | undefined;
    const peers = (await request(kv.get('peers'))) as Record<string, string> | undefined;
    const endpoints = (await request(kv.get('endpoints'))) as KeptEndpoints | undefined;
    return new AppStore(db, readReceipts ?? true, new Set(changed ?? []), new Set(verified ?? []), {
      groups: groups ?? [],
      people: people ?? {},
      peers: peers ?? {},
      endpoints: endpoints ?? {},
    });
  }

  private async put(key: string, value: unknown): Promise<void> {
    const tx = this.db.transaction('kv', 'readwrite');
    tx.objectStore('kv').put(value, key);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }

  /** Read receipts, both ways (the person's choice in Settings; on until turned off). */
  readReceipts(): boolean {
    return this.readReceiptsOn;
  }

  async setReadReceipts(on: boolean): Promise<void> {
    this.readReceiptsOn = on;
    await this.put('readReceipts', on);
  }

  keysChanged(accountId: string): boolean {
    return this.changedKeys.has(accountId);
  }

  /** A change of keys also takes back the person's "verified" mark: the number they compared is gone. */
  async setKeysChanged(accountId: string, changed: boolean): Promise<void> {
    if (changed) this.changedKeys.add(accountId);
    else this.changedKeys.delete(accountId);
    await this.put('changedKeys', [...this.changedKeys]);
    if (changed) await this.setVerified(accountId, false);
  }

  /** The person compared the safety number with this contact and marked them verified. */
  verified(accountId: string): boolean {
    return this.verifiedPeople.has(accountId);
  }

  async setVerified(accountId: string, verified: boolean): Promise<void> {
    if (verified) this.verifiedPeople.add(accountId);
    else this.verifiedPeople.delete(accountId);
    await this.put('verified', [...this.verifiedPeople]);
  }

  groups(): GroupView[] {
    return this.cached.groups;
  }

  async saveGroups(groups: GroupView[]): Promise<void> {
    this.cached.groups = groups;
    await this.put('groups', groups);
  }

  person(accountId: string): KeptPerson | undefined {
    return this.cached.people[accountId];
  }

  /** Keeps what the server said of a person (written only when it changed). */
  async savePerson(user: UserView, fetchedAtMs: number): Promise<void> {
    const before = this.cached.people[user.accountId];
    this.cached.people[user.accountId] = { user, fetchedAtMs };
    if (before && JSON.stringify(before.user) === JSON.stringify(user)) return;
    await this.put('people', this.cached.people);
  }

  peer(groupId: string): string | undefined {
    return this.cached.peers[groupId];
  }

  async savePeer(groupId: string, accountId: string): Promise<void> {
    this.cached.peers[groupId] = accountId;
    await this.put('peers', this.cached.peers);
  }

  /** What failover keeps between runs (re-verified against the pinned keys when read). */
  endpoints(): KeptEndpoints {
    return this.cached.endpoints;
  }

  async saveEndpoints(endpoints: KeptEndpoints): Promise<void> {
    this.cached.endpoints = endpoints;
    await this.put('endpoints', endpoints);
  }

  close(): void {
    this.db.close();
  }
}
