import type { GroupView, UserView } from '@courier/protocol';

/**
 * What the app keeps on the device beside the SDK's store: how far the person has read each chat,
 * the contacts whose keys changed (a warning stays until the person looks at the safety number) or
 * whom the person marked verified, where the server put each sent message, and the last chat list,
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
    private readonly readUpTo: Map<string, number>,
    private readonly changedKeys: Set<string>,
    private readonly sent: Map<string, number>,
    private readonly verifiedPeople: Set<string>,
    private readonly cached: {
      groups: GroupView[];
      people: Record<string, KeptPerson>;
      peers: Record<string, string>;
    },
  ) {}

  static async open(deviceId: string): Promise<AppStore> {
    const open = indexedDB.open(`courier-app-${deviceId}`, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    const db = await request(open);
    const kv = db.transaction('kv').objectStore('kv');
    const read = (await request(kv.get('readUpTo'))) as Record<string, number> | undefined;
    const changed = (await request(kv.get('changedKeys'))) as string[] | undefined;
    const verified = (await request(kv.get('verified'))) as string[] | undefined;
    const groups = (await request(kv.get('groups'))) as GroupView[] | undefined;
    const people = (await request(kv.get('people'))) as Record<string, KeptPerson> | undefined;
    const peers = (await request(kv.get('peers'))) as Record<string, string> | undefined;
    const range = IDBKeyRange.bound('sent:', 'sent;');
    const [keys, seqs] = await Promise.all([request(kv.getAllKeys(range)), request(kv.getAll(range))]);
    const sent = new Map(keys.map((key, i) => [String(key).slice('sent:'.length), seqs[i] as number]));
    return new AppStore(
      db,
      new Map(Object.entries(read ?? {})),
      new Set(changed ?? []),
      sent,
      new Set(verified ?? []),
      { groups: groups ?? [], people: people ?? {}, peers: peers ?? {} },
    );
  }

  private async put(key: string, value: unknown): Promise<void> {
    const tx = this.db.transaction('kv', 'readwrite');
    tx.objectStore('kv').put(value, key);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }

  readSeq(groupId: string): number {
    return this.readUpTo.get(groupId) ?? 0;
  }

  /** Records that the person has seen a chat up to `seq` (never moves back). */
  async markRead(groupId: string, seq: number): Promise<boolean> {
    if (seq <= this.readSeq(groupId)) return false;
    this.readUpTo.set(groupId, seq);
    await this.put('readUpTo', Object.fromEntries(this.readUpTo));
    return true;
  }

  /** Where the server put a message this device sent (the SDK keeps sent messages at seq 0). */
  sentSeq(clientMsgId: string): number | undefined {
    return this.sent.get(clientMsgId);
  }

  async setSentSeq(clientMsgId: string, seq: number): Promise<void> {
    this.sent.set(clientMsgId, seq);
    await this.put(`sent:${clientMsgId}`, seq);
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

  close(): void {
    this.db.close();
  }
}
