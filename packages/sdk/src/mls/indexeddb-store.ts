import { splitGroupState, type StoredKeyPackage } from '@courier/mls';
import { applyAction, inLogOrder, type MessageAction } from '../actions/message-action.ts';
import type { OutboxItem } from '../client-store.ts';
import type { MessageRef } from '../content/message-ref.ts';
import {
  type ChatCursor,
  type ChatState,
  checkChange,
  checkPage,
  countsAsUnread,
  type GroupRecord,
  type GroupSave,
  type GroupSaveExtras,
  type HistoryCursor,
  type HistoryPage,
  incompleteState,
  isKnown,
  type KnownGroupState,
  type MlsStore,
  mergeChatState,
  noChatState,
  type StashedEntry,
  type StoredIdentity,
  type StoredMessage,
} from './mls-store.ts';

const STORES = [
  'meta',
  'seqs',
  'outbox',
  'keyPackages',
  'groups',
  'stash',
  'messages',
  'knownKeys',
  'chatStates',
  'pendingActions',
  'groupPages',
] as const;
type StoreName = (typeof STORES)[number];

/**
 * A group as the `groups` store keeps it: the secret part of its state and how many pages its tree has,
 * each page a record of `groupPages` keyed [groupId, index]. A database of version 3 or before kept
 * `state`, the whole state (exportGroupState bytes); opening it splits those.
 */
type GroupRow = Omit<GroupRecord, 'state'> & { secrets: Uint8Array; pageCount: number };
type WholeGroupRow = Omit<GroupRecord, 'state'> & { state: Uint8Array };

const pageRange = (groupId: string, from = 0) =>
  IDBKeyRange.bound([groupId, from], [groupId, Number.MAX_SAFE_INTEGER]);

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * A message as kept: the message, its place in the device's order (`order`, for paging by chat and
 * order) and, for a received message that counts as unread, its position again (`unreadSeq`, for
 * counting unread messages by chat and position). Both are indexes, so neither paging nor counting
 * reads more than it returns.
 */
type MessageRecord = StoredMessage & { order: number; unreadSeq?: number };

/** A chat as `glances` read it: its newest entries (newest first), whether older ones exist, its unread count. */
export interface ChatGlanceRead {
  messages: StoredMessage[];
  more: boolean;
  unread: number;
}

const BY_ORDER = 'byOrder';
const BY_UNREAD = 'byUnread';

function toRecord(message: StoredMessage, order: number): MessageRecord {
  const { status: _status, ...kept } = message;
  return { ...kept, order, ...(countsAsUnread(message) ? { unreadSeq: message.seq } : {}) };
}

function fromRecord(record: MessageRecord): StoredMessage {
  const { order: _order, unreadSeq: _unread, ...message } = record;
  return message;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
    tx.onerror = () => reject(tx.error);
  });
}

/**
 * The device's store in a browser: IndexedDB, one database per device. A chat's group state is
 * saved in one IndexedDB transaction with the messages and outbox item it produced, and only over
 * the version it was read at, so two tabs of one device never both move a chat on. Positions and
 * the outbox (which the connection reads synchronously) are kept in memory, loaded at open and
 * written through; a position lost in a crash only means an entry is offered again, and the group
 * record's own position makes sure it is not processed twice.
 */
export class IndexedDbMlsStore implements MlsStore {
  private readonly seqs = new Map<string, number>();
  private mailboxSeq = 0;
  private readonly pending = new Map<string, OutboxItem>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(private readonly db: IDBDatabase) {}

  static async open(name: string, factory: IDBFactory = indexedDB): Promise<IndexedDbMlsStore> {
    const open = factory.open(name, 4);
    open.onupgradeneeded = (event) => {
      for (const store of STORES)
        if (!open.result.objectStoreNames.contains(store)) open.result.createObjectStore(store);
      const messages = open.transaction!.objectStore('messages');
      if (!messages.indexNames.contains(BY_ORDER)) messages.createIndex(BY_ORDER, ['groupId', 'order']);
      if (!messages.indexNames.contains(BY_UNREAD)) messages.createIndex(BY_UNREAD, ['groupId', 'unreadSeq']);
      if (event.oldVersion >= 1 && event.oldVersion < 4) {
        // Groups saved whole become the secret part and pages (one that cannot be split stays whole).
        const groups = open.transaction!.objectStore('groups');
        const pages = open.transaction!.objectStore('groupPages');
        const all = groups.openCursor();
        all.onsuccess = () => {
          const cursor = all.result;
          if (!cursor) return;
          const { state, ...row } = cursor.value as WholeGroupRow;
          try {
            const parts = splitGroupState(state);
            for (const [i, page] of parts.pages.entries()) pages.put(page, [String(cursor.key), i]);
            cursor.update({
              ...row,
              secrets: parts.secrets,
              pageCount: parts.pages.length,
            } satisfies GroupRow);
          } catch {
            // left whole: it reads as it did
          }
          cursor.continue();
        };
      }
      if (event.oldVersion >= 1 && event.oldVersion < 2) {
        // Messages kept by version 1 get their order (their log position, sent ones last).
        let order = 0;
        const all = messages.openCursor();
        all.onsuccess = () => {
          const cursor = all.result;
          if (!cursor) {
            open.transaction!.objectStore('meta').put(order, 'messageOrder');
            return;
          }
          cursor.update(toRecord(cursor.value as StoredMessage, ++order));
          cursor.continue();
        };
      }
    };
    const store = new IndexedDbMlsStore(await request(open));
    await store.load();
    return store;
  }

  close(): void {
    this.db.close();
  }

  /** Resolves when every write-through so far is on disk. */
  flushed(): Promise<void> {
    return this.writes;
  }

  private async load(): Promise<void> {
    const tx = this.db.transaction(['seqs', 'meta', 'outbox'], 'readonly');
    const [keys, values, mailbox, outbox] = await Promise.all([
      request(tx.objectStore('seqs').getAllKeys()),
      request(tx.objectStore('seqs').getAll()),
      request(tx.objectStore('meta').get('mailboxSeq')),
      request(tx.objectStore('outbox').getAll()),
    ]);
    for (const [i, key] of keys.entries()) this.seqs.set(String(key), values[i] as number);
    this.mailboxSeq = (mailbox as number | undefined) ?? 0;
    for (const item of outbox as OutboxItem[]) this.pending.set(item.clientMsgId, item);
  }

  private write(stores: StoreName[], work: (tx: IDBTransaction) => void): void {
    this.writes = this.writes.then(async () => {
      const tx = this.db.transaction(stores, 'readwrite');
      work(tx);
      await done(tx);
    });
  }

  private async read<T>(store: StoreName, key: IDBValidKey): Promise<T | undefined> {
    return (await request(this.db.transaction(store, 'readonly').objectStore(store).get(key))) as
      | T
      | undefined;
  }

  // ClientStore (synchronous: in memory, written through)

  lastSeq(groupId: string): number {
    return this.seqs.get(groupId) ?? 0;
  }

  setLastSeq(groupId: string, seq: number): void {
    if (seq <= this.lastSeq(groupId)) return;
    this.seqs.set(groupId, seq);
    this.write(['seqs'], (tx) => void raiseSeq(tx, groupId, seq));
  }

  lastMailboxSeq(): number {
    return this.mailboxSeq;
  }

  setLastMailboxSeq(seq: number): void {
    if (seq <= this.mailboxSeq) return;
    this.mailboxSeq = seq;
    this.write(['meta'], (tx) => void raiseMailboxSeq(tx, seq));
  }

  outbox(): OutboxItem[] {
    return [...this.pending.values()];
  }

  putOutbox(item: OutboxItem): void {
    this.pending.set(item.clientMsgId, item);
    this.write(['outbox'], (tx) => tx.objectStore('outbox').put(item, item.clientMsgId));
  }

  removeOutbox(clientMsgId: string): void {
    this.pending.delete(clientMsgId);
    this.write(['outbox'], (tx) => tx.objectStore('outbox').delete(clientMsgId));
  }

  // MlsStore

  identity(): Promise<StoredIdentity | undefined> {
    return this.read<StoredIdentity>('meta', 'identity');
  }

  async saveIdentity(identity: StoredIdentity): Promise<void> {
    const tx = this.db.transaction('meta', 'readwrite');
    tx.objectStore('meta').put(identity, 'identity');
    await done(tx);
  }

  async keyPackages(): Promise<StoredKeyPackage[]> {
    return (await request(
      this.db.transaction('keyPackages').objectStore('keyPackages').getAll(),
    )) as StoredKeyPackage[];
  }

  async addKeyPackages(keyPackages: readonly StoredKeyPackage[]): Promise<void> {
    const tx = this.db.transaction('keyPackages', 'readwrite');
    for (const kp of keyPackages) tx.objectStore('keyPackages').put(kp, hex(kp.ref));
    await done(tx);
  }

  async removeKeyPackage(ref: Uint8Array): Promise<void> {
    const tx = this.db.transaction('keyPackages', 'readwrite');
    tx.objectStore('keyPackages').delete(hex(ref));
    await done(tx);
  }

  async group(groupId: string, known?: KnownGroupState): Promise<GroupRecord | undefined> {
    // One transaction: the secret part and the pages of the same save.
    const tx = this.db.transaction(['groups', 'groupPages'], 'readonly');
    const row = (await request(tx.objectStore('groups').get(groupId))) as
      | GroupRow
      | WholeGroupRow
      | undefined;
    if (row === undefined) return undefined;
    if ('state' in row) {
      const { state, ...rest } = row;
      return { ...rest, state: splitGroupState(state) };
    }
    const { secrets, pageCount, ...rest } = row;
    if (isKnown(known, row.version, secrets)) return { ...rest, state: known.state };
    const pages = (await request(tx.objectStore('groupPages').getAll(pageRange(groupId)))) as Uint8Array[];
    if (pages.length !== pageCount) throw incompleteState(`the stored tree of ${groupId} is incomplete`);
    return { ...rest, state: { secrets, pages } };
  }

  async groupIds(): Promise<string[]> {
    return (await request(this.db.transaction('groups').objectStore('groups').getAllKeys())).map(String);
  }

  async pendingGroupIds(): Promise<string[]> {
    // The rows hold the secret part and the position, not the trees' pages (a separate store).
    const store = this.db.transaction('groups').objectStore('groups');
    const [keys, rows] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    return keys.flatMap((key, i) => ((rows[i] as GroupRow | WholeGroupRow).pending ? [String(key)] : []));
  }

  async saveGroup(
    groupId: string,
    record: GroupSave,
    expectedVersion: number | undefined,
    extras: GroupSaveExtras = {},
  ): Promise<boolean> {
    const change = record.state;
    if (change) checkChange(change);
    // One readwrite transaction: the version check and every write (the secret part and the pages of
    // the state, the messages, the outbox item) commit together or not at all.
    const tx = this.db.transaction(
      ['groups', 'groupPages', 'messages', 'outbox', 'meta', 'pendingActions', 'seqs', 'keyPackages'],
      'readwrite',
    );
    const abandon = async () => {
      tx.abort();
      await done(tx).catch(() => undefined);
    };
    const groups = tx.objectStore('groups');
    const current = (await request(groups.get(groupId))) as GroupRow | WholeGroupRow | undefined;
    if (current?.version !== expectedVersion) {
      await abandon();
      return false;
    }
    const version = (expectedVersion ?? 0) + 1;
    const { state: _state, ...moved } = record;
    if (change === undefined) {
      if (current === undefined) {
        await abandon();
        throw incompleteState('no state saved yet');
      }
      const { seq: _seq, pending: _pending, version: _version, ...kept } = current;
      groups.put({ ...kept, ...moved, version }, groupId);
    } else {
      const pages = tx.objectStore('groupPages');
      pages.delete(pageRange(groupId, change.pageCount));
      for (const [i, page] of change.pages) pages.put(page, [groupId, i]);
      const count = await request(pages.count(pageRange(groupId)));
      if (count !== change.pageCount) {
        await abandon();
        throw incompleteState(`${change.pageCount - count} tree page(s) neither saved nor stored`);
      }
      groups.put(
        { ...moved, secrets: change.secrets, pageCount: change.pageCount, version } satisfies GroupRow,
        groupId,
      );
    }
    await this.putMessages(tx, extras.messages ?? []);
    await this.applyActions(tx, extras.actions ?? []);
    if (extras.outbox) {
      tx.objectStore('outbox').put(extras.outbox, extras.outbox.clientMsgId);
      this.pending.set(extras.outbox.clientMsgId, extras.outbox);
    }
    if (extras.accepted) await acceptIn(tx, groupId, extras.accepted);
    if (extras.cursor !== undefined) await raiseSeq(tx, groupId, extras.cursor);
    if (extras.usedKeyPackage) tx.objectStore('keyPackages').delete(hex(extras.usedKeyPackage));
    if (extras.mailboxCursor !== undefined) await raiseMailboxSeq(tx, extras.mailboxCursor);
    await done(tx);
    if (extras.cursor !== undefined) this.raiseInMemory(groupId, extras.cursor);
    if (extras.mailboxCursor !== undefined && extras.mailboxCursor > this.mailboxSeq)
      this.mailboxSeq = extras.mailboxCursor;
    return true;
  }

  async deleteGroup(groupId: string): Promise<void> {
    const tx = this.db.transaction(['groups', 'groupPages'], 'readwrite');
    tx.objectStore('groups').delete(groupId);
    tx.objectStore('groupPages').delete(pageRange(groupId));
    await done(tx);
  }

  async stash(groupId: string, entry: StashedEntry): Promise<void> {
    const tx = this.db.transaction(['stash', 'seqs'], 'readwrite');
    tx.objectStore('stash').put(entry, [groupId, entry.seq]);
    await raiseSeq(tx, groupId, entry.seq);
    await done(tx);
    this.raiseInMemory(groupId, entry.seq);
  }

  /** The cursor held in memory after a transaction raised it on disk. */
  private raiseInMemory(groupId: string, seq: number): void {
    if (seq > this.lastSeq(groupId)) this.seqs.set(groupId, seq);
  }

  async takeStash(groupId: string): Promise<StashedEntry[]> {
    const tx = this.db.transaction('stash', 'readwrite');
    const range = IDBKeyRange.bound([groupId, 0], [groupId, Number.MAX_SAFE_INTEGER]);
    const entries = (await request(tx.objectStore('stash').getAll(range))) as StashedEntry[];
    tx.objectStore('stash').delete(range);
    await done(tx);
    return entries.sort((a, b) => a.seq - b.seq);
  }

  async messages(groupId: string): Promise<StoredMessage[]> {
    const range = IDBKeyRange.bound([groupId], [groupId, []]);
    const all = (
      (await request(
        this.db.transaction('messages').objectStore('messages').getAll(range),
      )) as MessageRecord[]
    ).map(fromRecord);
    // Sent messages (seq 0 until accepted) in the order they were written, then by log position.
    return all.sort(
      (a, b) =>
        (a.seq || Number.MAX_SAFE_INTEGER) - (b.seq || Number.MAX_SAFE_INTEGER) || a.sentAtMs - b.sentAtMs,
    );
  }

  /**
   * Adds messages not kept yet, each with the next order, inside the caller's transaction; each takes
   * the actions kept aside for it.
   */
  private async putMessages(tx: IDBTransaction, messages: readonly StoredMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const store = tx.objectStore('messages');
    const meta = tx.objectStore('meta');
    const pending = tx.objectStore('pendingActions');
    let order = ((await request(meta.get('messageOrder'))) as number | undefined) ?? 0;
    for (const m of messages) {
      const key = [m.groupId, m.senderDeviceId, m.clientMsgId];
      if ((await request(store.count(key))) !== 0) continue;
      const waiting = IDBKeyRange.bound(key, [...key, []]);
      const actions = (await request(pending.getAll(waiting))) as MessageAction[];
      if (actions.length > 0) pending.delete(waiting);
      store.put(toRecord(inLogOrder(actions).reduce(applyAction, m), ++order), key);
    }
    meta.put(order, 'messageOrder');
  }

  /** Applies actions to their messages, or keeps them aside until the message arrives. */
  private async applyActions(tx: IDBTransaction, actions: readonly MessageAction[]): Promise<void> {
    const store = tx.objectStore('messages');
    for (const action of actions) {
      const key = [action.groupId, action.target.senderDeviceId, action.target.clientMsgId];
      const kept = (await request(store.get(key))) as MessageRecord | undefined;
      if (kept) {
        const next = applyAction(fromRecord(kept), action);
        store.put(toRecord(next, kept.order), key);
      } else
        tx.objectStore('pendingActions').put(action, [...key, action.senderDeviceId, action.clientMsgId]);
    }
  }

  async message(
    groupId: string,
    ref: Pick<MessageRef, 'senderDeviceId' | 'clientMsgId'>,
  ): Promise<StoredMessage | undefined> {
    const key = [groupId, ref.senderDeviceId, ref.clientMsgId];
    const kept = (await request(this.db.transaction('messages').objectStore('messages').get(key))) as
      | MessageRecord
      | undefined;
    return kept && fromRecord(kept);
  }

  async addMessages(messages: readonly StoredMessage[], cursor?: ChatCursor): Promise<void> {
    const tx = this.db.transaction(['messages', 'meta', 'pendingActions', 'seqs'], 'readwrite');
    await this.putMessages(tx, messages);
    if (cursor) await raiseSeq(tx, cursor.groupId, cursor.seq);
    await done(tx);
    if (cursor) this.raiseInMemory(cursor.groupId, cursor.seq);
  }

  async history(groupId: string, page: { before?: HistoryCursor; limit: number }): Promise<HistoryPage> {
    checkPage(page);
    const index = this.db.transaction('messages').objectStore('messages').index(BY_ORDER);
    const range = IDBKeyRange.bound(
      [groupId, 0],
      [groupId, page.before ?? Number.MAX_SAFE_INTEGER],
      false,
      true,
    );
    const records: MessageRecord[] = [];
    await new Promise<void>((resolve, reject) => {
      const walk = index.openCursor(range, 'prev');
      walk.onerror = () => reject(walk.error);
      walk.onsuccess = () => {
        const cursor = walk.result;
        // One more than the page tells whether an older page exists.
        if (!cursor || records.length > page.limit) return resolve();
        records.push(cursor.value as MessageRecord);
        if (records.length > page.limit) return resolve();
        cursor.continue();
      };
    });
    const more = records.length > page.limit;
    const messages = records.slice(0, page.limit);
    const oldest = messages.at(-1);
    return {
      messages: messages.map(fromRecord),
      ...(more && oldest ? { before: oldest.order } : {}),
    };
  }

  /**
   * What a chat list shows of many chats, in one read-only transaction (not three per chat): per
   * chat its newest entries (newest first; up to `limit`, fewer once one is not a roster line) and
   * its unread count, as `history` and `unreadCount` would answer them. `more`: older entries than
   * those read may exist.
   */
  async glances(groupIds: readonly string[], limit = 20): Promise<Map<string, ChatGlanceRead>> {
    const tx = this.db.transaction(['messages', 'chatStates']);
    const byOrder = tx.objectStore('messages').index(BY_ORDER);
    const byUnread = tx.objectStore('messages').index(BY_UNREAD);
    const states = tx.objectStore('chatStates');
    const newest = (groupId: string) =>
      new Promise<{ messages: StoredMessage[]; more: boolean }>((resolve, reject) => {
        const messages: StoredMessage[] = [];
        const range = IDBKeyRange.bound([groupId, 0], [groupId, Number.MAX_SAFE_INTEGER]);
        const walk = byOrder.openCursor(range, 'prev');
        walk.onerror = () => reject(walk.error);
        walk.onsuccess = () => {
          const cursor = walk.result;
          if (!cursor) return resolve({ messages, more: false });
          const message = fromRecord(cursor.value as MessageRecord);
          if (messages.length === limit) return resolve({ messages, more: true });
          messages.push(message);
          // The list's preview is the newest entry that is not a roster line: found, enough read.
          if (message.roster === undefined) return resolve({ messages, more: true });
          cursor.continue();
        };
      });
    const unread = async (groupId: string) => {
      const state = ((await request(states.get(groupId))) as ChatState | undefined) ?? noChatState();
      return request(
        byUnread.count(
          IDBKeyRange.bound([groupId, state.myReadUpTo], [groupId, Number.MAX_SAFE_INTEGER], true, false),
        ),
      );
    };
    const read = await Promise.all(
      groupIds.map(async (groupId) => {
        const [found, count] = await Promise.all([newest(groupId), unread(groupId)]);
        return [groupId, { ...found, unread: count }] as const;
      }),
    );
    return new Map(read);
  }

  async acceptSent(
    groupId: string,
    sent: { senderDeviceId: string; clientMsgId: string; seq: number },
  ): Promise<void> {
    const tx = this.db.transaction('messages', 'readwrite');
    await acceptIn(tx, groupId, sent);
    await done(tx);
  }

  async chatState(groupId: string): Promise<ChatState> {
    return (await this.read<ChatState>('chatStates', groupId)) ?? noChatState();
  }

  async advanceChatState(groupId: string, patch: Partial<ChatState>): Promise<ChatState> {
    const tx = this.db.transaction('chatStates', 'readwrite');
    const store = tx.objectStore('chatStates');
    const next = mergeChatState(
      ((await request(store.get(groupId))) as ChatState | undefined) ?? noChatState(),
      patch,
    );
    store.put(next, groupId);
    await done(tx);
    return next;
  }

  async unreadCount(groupId: string): Promise<number> {
    const tx = this.db.transaction(['messages', 'chatStates']);
    const state =
      ((await request(tx.objectStore('chatStates').get(groupId))) as ChatState | undefined) ?? noChatState();
    const range = IDBKeyRange.bound(
      [groupId, state.myReadUpTo],
      [groupId, Number.MAX_SAFE_INTEGER],
      true,
      false,
    );
    return request(tx.objectStore('messages').index(BY_UNREAD).count(range));
  }

  async knownKeys(accountId: string): Promise<Record<string, string>> {
    return (await this.read<Record<string, string>>('knownKeys', accountId)) ?? {};
  }

  async setKnownKeys(keys: ReadonlyMap<string, Record<string, string>>): Promise<void> {
    if (keys.size === 0) return;
    const tx = this.db.transaction('knownKeys', 'readwrite');
    for (const [accountId, devices] of keys) tx.objectStore('knownKeys').put(devices, accountId);
    await done(tx);
  }
}

/**
 * Raises a chat's cursor inside a transaction, never lowering it: a write-through of a lower position
 * queued earlier may land after a save that raised it.
 */
async function raiseSeq(tx: IDBTransaction, groupId: string, seq: number): Promise<void> {
  const seqs = tx.objectStore('seqs');
  const stored = (await request(seqs.get(groupId))) as number | undefined;
  if (stored === undefined || stored < seq) seqs.put(seq, groupId);
}

/** Raises the mailbox cursor inside a transaction, never lowering it (as `raiseSeq`). */
async function raiseMailboxSeq(tx: IDBTransaction, seq: number): Promise<void> {
  const meta = tx.objectStore('meta');
  const stored = (await request(meta.get('mailboxSeq'))) as number | undefined;
  if (stored === undefined || stored < seq) meta.put(seq, 'mailboxSeq');
}

/** Records the position the server stored a sent message at, inside a transaction. */
async function acceptIn(
  tx: IDBTransaction,
  groupId: string,
  sent: { senderDeviceId: string; clientMsgId: string; seq: number },
): Promise<void> {
  const messages = tx.objectStore('messages');
  const key = [groupId, sent.senderDeviceId, sent.clientMsgId];
  const kept = (await request(messages.get(key))) as MessageRecord | undefined;
  if (kept && kept.seq !== sent.seq) messages.put({ ...kept, seq: sent.seq }, key);
}
