import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { splitGroupState, type StoredKeyPackage } from '@courier/mls';
import type { RosterEvent } from '@courier/protocol';
import {
  type ChatCursor,
  type ChatState,
  checkPage,
  type FileDescriptor,
  checkChange,
  type GroupRecord,
  type GroupSave,
  type GroupSaveExtras,
  incompleteState,
  isKnown,
  type KnownGroupState,
  type HistoryCursor,
  type HistoryPage,
  type MlsStore,
  mergeChatState,
  noChatState,
  type OutboxItem,
  type StashedEntry,
  type StickerRef,
  type StoredIdentity,
  type StoredMessage,
  applyAction,
  inLogOrder,
  type MessageAction,
} from '@courier/sdk';
import Database from 'better-sqlite3';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS seqs (group_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  client_msg_id TEXT PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, payload BLOB NOT NULL,
  queued INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS key_packages (
  ref BLOB PRIMARY KEY, key_package BLOB NOT NULL, private_key_package BLOB NOT NULL, last_resort INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
  group_id TEXT PRIMARY KEY, state BLOB NOT NULL, seq INTEGER NOT NULL, pending_id TEXT, pending_state BLOB,
  version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS group_pages (
  group_id TEXT NOT NULL, page INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (group_id, page)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stash (
  group_id TEXT NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (group_id, seq));
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, group_id TEXT NOT NULL, seq INTEGER NOT NULL,
  client_msg_id TEXT NOT NULL, sender_account_id TEXT NOT NULL, sender_device_id TEXT NOT NULL,
  sent_at_ms INTEGER NOT NULL, text TEXT NOT NULL, outgoing INTEGER NOT NULL, shown INTEGER NOT NULL, roster TEXT,
  UNIQUE (group_id, sender_device_id, client_msg_id));
CREATE TABLE IF NOT EXISTS pending_actions (
  group_id TEXT NOT NULL, target_device_id TEXT NOT NULL, target_msg_id TEXT NOT NULL,
  sender_device_id TEXT NOT NULL, client_msg_id TEXT NOT NULL, action TEXT NOT NULL,
  PRIMARY KEY (group_id, target_device_id, target_msg_id, sender_device_id, client_msg_id));
CREATE TABLE IF NOT EXISTS known_keys (account_id TEXT PRIMARY KEY, keys TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chat_states (
  group_id TEXT PRIMARY KEY, delivered_up_to INTEGER NOT NULL, read_up_to INTEGER NOT NULL,
  my_read_up_to INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS drafts (
  client_msg_id TEXT PRIMARY KEY, chat TEXT NOT NULL, group_id TEXT, text TEXT NOT NULL, queued INTEGER NOT NULL);
`;

/** Columns added to tables of earlier versions (CREATE TABLE IF NOT EXISTS leaves those as they were). */
const ADDED_COLUMNS: readonly { table: string; column: string; definition: string }[] = [
  // File messages (issue 14) and messages of a type this version cannot show.
  { table: 'messages', column: 'file', definition: 'TEXT' },
  { table: 'messages', column: 'unsupported', definition: 'TEXT' },
  // Message actions (issue 14): quote, forward, edit mark and history, deletion, reactions, as JSON.
  { table: 'messages', column: 'marks', definition: 'TEXT' },
  // Sticker messages (issue 16): the reference, as JSON.
  { table: 'messages', column: 'sticker', definition: 'TEXT' },
  // Group state in parts (issue 15): `state` holds the secret part and `group_pages` the tree's pages,
  // this many. NULL: `state` is the whole state as saved before (exportGroupState bytes, any version).
  { table: 'groups', column: 'page_count', definition: 'INTEGER' },
];

/** Paging by chat and order, and counting unread messages by chat and position, read only what they return. */
const INDEXES = `
CREATE INDEX IF NOT EXISTS messages_by_group_order ON messages (group_id, id);
CREATE INDEX IF NOT EXISTS messages_by_group_seq ON messages (group_id, seq);
`;

/**
 * A text the person typed that is not encrypted yet (its chat not found, or its encryption group not
 * ready, when it was typed). It keeps the client message id it will be encrypted and sent with.
 */
export interface Draft {
  clientMsgId: string;
  /** The chat as typed (`@bob`, a title, an id). */
  chat: string;
  /** The chat it was resolved to, once it was. */
  groupId?: string;
  text: string;
}

interface MessageRow {
  id: number;
  group_id: string;
  seq: number;
  client_msg_id: string;
  sender_account_id: string;
  sender_device_id: string;
  sent_at_ms: number;
  text: string;
  outgoing: number;
  roster: string | null;
  file: string | null;
  unsupported: string | null;
  marks: string | null;
  sticker: string | null;
}

/** What message actions add to a message, kept in its `marks` column. */
type Marks = Pick<StoredMessage, 'replyTo' | 'forwarded' | 'edited' | 'deleted' | 'reactions'>;

function marksOf(m: StoredMessage): string | null {
  const marks: Marks = {
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    ...(m.forwarded ? { forwarded: m.forwarded } : {}),
    ...(m.edited ? { edited: m.edited } : {}),
    ...(m.deleted ? { deleted: m.deleted } : {}),
    ...(m.reactions ? { reactions: m.reactions } : {}),
  };
  return Object.keys(marks).length > 0 ? JSON.stringify(marks) : null;
}

const bytes = (b: Buffer | Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
const toMessage = (r: MessageRow): StoredMessage & { id: number } => ({
  id: r.id,
  groupId: r.group_id,
  seq: r.seq,
  clientMsgId: r.client_msg_id,
  senderAccountId: r.sender_account_id,
  senderDeviceId: r.sender_device_id,
  sentAtMs: r.sent_at_ms,
  text: r.text,
  outgoing: r.outgoing === 1,
  ...(r.roster ? { roster: JSON.parse(r.roster) as RosterEvent } : {}),
  ...(r.file ? { file: JSON.parse(r.file) as FileDescriptor } : {}),
  ...(r.unsupported ? { unsupported: JSON.parse(r.unsupported) as { type: string; v: number } } : {}),
  ...(r.marks ? (JSON.parse(r.marks) as Marks) : {}),
  ...(r.sticker ? { sticker: JSON.parse(r.sticker) as StickerRef } : {}),
});

/**
 * One device's end-to-end-encryption store on disk: a SQLite file (mode 0600) holding its MLS
 * identity, key packages, each chat's group state, the messages it holds, its positions and outbox.
 * Several processes of one profile (a `listen` and a `send`) share it: SQLite serialises their
 * writes, and a group save that lost a race fails and is redone from the newer state.
 */
export class DeviceStore implements MlsStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    chmodSync(path, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('secure_delete = ON');
    this.db.exec(SCHEMA);
    for (const { table, column, definition } of ADDED_COLUMNS) {
      const columns = this.sql(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!columns.some((c) => c.name === column))
        this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    }
    this.db.exec(INDEXES);
    this.splitWholeStates();
  }

  /**
   * Groups saved whole (before the state was kept in parts) become parts: the secret part in `state`,
   * the pages in `group_pages`. State of versions 1–3 has no pages: it is kept as it is (page count 0)
   * and split when the group is next saved. A state that cannot be split is left whole (it reads as
   * it did).
   */
  private splitWholeStates(): void {
    const select = this.sql('SELECT group_id, state FROM groups WHERE page_count IS NULL');
    if (select.get() === undefined) return;
    const setState = this.sql('UPDATE groups SET state = ?, page_count = ? WHERE group_id = ?');
    const clear = this.sql('DELETE FROM group_pages WHERE group_id = ?');
    const put = this.sql('INSERT INTO group_pages (group_id, page, bytes) VALUES (?, ?, ?)');
    // Read again inside the write transaction: another process of the profile may have split them.
    this.db
      .transaction(() => {
        for (const row of select.all() as { group_id: string; state: Buffer }[]) {
          let parts: ReturnType<typeof splitGroupState>;
          try {
            parts = splitGroupState(bytes(row.state));
          } catch {
            continue;
          }
          clear.run(row.group_id);
          for (const [i, page] of parts.pages.entries()) put.run(row.group_id, i, page);
          setState.run(parts.secrets, parts.pages.length, row.group_id);
        }
      })
      .immediate();
  }

  close(): void {
    this.db.close();
  }

  /**
   * A prepared statement, compiled once per store: preparing the same SQL on every call cost more
   * than running it (a device in a 1,000-member group runs these thousands of times).
   */
  private sql(source: string): Database.Statement {
    let statement = this.statements.get(source);
    if (!statement) {
      statement = this.db.prepare(source);
      this.statements.set(source, statement);
    }
    return statement;
  }

  private meta(key: string): Buffer | undefined {
    return (this.sql('SELECT value FROM meta WHERE key = ?').get(key) as { value: Buffer } | undefined)
      ?.value;
  }

  private setMeta(key: string, value: Uint8Array | string | number): void {
    this.sql(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(key, typeof value === 'number' ? String(value) : value);
  }

  // ClientStore

  lastSeq(groupId: string): number {
    return (
      (this.sql('SELECT seq FROM seqs WHERE group_id = ?').get(groupId) as { seq: number } | undefined)
        ?.seq ?? 0
    );
  }

  setLastSeq(groupId: string, seq: number): void {
    this.sql(
      'INSERT INTO seqs (group_id, seq) VALUES (?, ?) ON CONFLICT (group_id) DO UPDATE SET seq = MAX(seq, excluded.seq)',
    ).run(groupId, seq);
  }

  lastMailboxSeq(): number {
    return Number(this.meta('mailbox_seq')?.toString() ?? 0);
  }

  setLastMailboxSeq(seq: number): void {
    this.db.transaction(() => {
      if (seq > this.lastMailboxSeq()) this.setMeta('mailbox_seq', seq);
    })();
  }

  outbox(): OutboxItem[] {
    return (
      this.sql('SELECT * FROM outbox ORDER BY queued').all() as {
        client_msg_id: string;
        kind: OutboxItem['kind'];
        target: string;
        payload: Buffer;
      }[]
    ).map((r) => ({
      kind: r.kind,
      target: r.target,
      clientMsgId: r.client_msg_id,
      payload: bytes(r.payload),
    }));
  }

  putOutbox(item: OutboxItem): void {
    this.sql(
      `INSERT INTO outbox (client_msg_id, kind, target, payload, queued) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (client_msg_id) DO NOTHING`,
    ).run(item.clientMsgId, item.kind, item.target, item.payload, Date.now());
  }

  removeOutbox(clientMsgId: string): void {
    this.sql('DELETE FROM outbox WHERE client_msg_id = ?').run(clientMsgId);
  }

  /** Read receipts, both ways (on unless turned off on this device). */
  readReceipts(): boolean {
    return this.meta('read_receipts')?.toString() !== 'off';
  }

  setReadReceipts(on: boolean): void {
    this.setMeta('read_receipts', on ? 'on' : 'off');
  }

  // Drafts: typed texts kept until they are encrypted (then they move to the outbox, atomically)

  addDraft(draft: Draft): void {
    this.sql(
      `INSERT INTO drafts (client_msg_id, chat, group_id, text, queued) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (client_msg_id) DO NOTHING`,
    ).run(draft.clientMsgId, draft.chat, draft.groupId ?? null, draft.text, Date.now());
  }

  /** Every draft, oldest first. */
  drafts(): Draft[] {
    return (
      this.sql('SELECT * FROM drafts ORDER BY queued, rowid').all() as {
        client_msg_id: string;
        chat: string;
        group_id: string | null;
        text: string;
      }[]
    ).map((r) => ({
      clientMsgId: r.client_msg_id,
      chat: r.chat,
      ...(r.group_id ? { groupId: r.group_id } : {}),
      text: r.text,
    }));
  }

  setDraftGroup(clientMsgId: string, groupId: string): void {
    this.sql('UPDATE drafts SET group_id = ? WHERE client_msg_id = ?').run(groupId, clientMsgId);
  }

  removeDraft(clientMsgId: string): void {
    this.sql('DELETE FROM drafts WHERE client_msg_id = ?').run(clientMsgId);
  }

  // MlsStore

  async identity(): Promise<StoredIdentity | undefined> {
    const value = this.meta('identity');
    if (!value) return undefined;
    const parsed = JSON.parse(value.toString()) as Record<string, string>;
    return {
      accountId: parsed.accountId!,
      deviceId: parsed.deviceId!,
      signaturePublicKey: bytes(Buffer.from(parsed.signaturePublicKey!, 'base64')),
      signaturePrivateKey: bytes(Buffer.from(parsed.signaturePrivateKey!, 'base64')),
      certificationKey: bytes(Buffer.from(parsed.certificationKey!, 'base64')),
    };
  }

  async saveIdentity(identity: StoredIdentity): Promise<void> {
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    this.setMeta(
      'identity',
      JSON.stringify({
        accountId: identity.accountId,
        deviceId: identity.deviceId,
        signaturePublicKey: b64(identity.signaturePublicKey),
        signaturePrivateKey: b64(identity.signaturePrivateKey),
        certificationKey: b64(identity.certificationKey),
      }),
    );
  }

  async keyPackages(): Promise<StoredKeyPackage[]> {
    return (
      this.sql('SELECT * FROM key_packages').all() as {
        ref: Buffer;
        key_package: Buffer;
        private_key_package: Buffer;
        last_resort: number;
      }[]
    ).map((r) => ({
      ref: bytes(r.ref),
      keyPackage: bytes(r.key_package),
      privateKeyPackage: bytes(r.private_key_package),
      lastResort: r.last_resort === 1,
    }));
  }

  async addKeyPackages(keyPackages: readonly StoredKeyPackage[]): Promise<void> {
    const insert = this.sql(
      'INSERT OR IGNORE INTO key_packages (ref, key_package, private_key_package, last_resort) VALUES (?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const kp of keyPackages)
        insert.run(kp.ref, kp.keyPackage, kp.privateKeyPackage, kp.lastResort ? 1 : 0);
    })();
  }

  async removeKeyPackage(ref: Uint8Array): Promise<void> {
    this.sql('DELETE FROM key_packages WHERE ref = ?').run(ref);
  }

  async group(groupId: string, known?: KnownGroupState): Promise<GroupRecord | undefined> {
    // One read transaction: the row and the pages of the same save.
    return this.db.transaction(() => {
      const row = this.sql('SELECT * FROM groups WHERE group_id = ?').get(groupId) as
        | {
            state: Buffer;
            page_count: number | null;
            seq: number;
            pending_id: string | null;
            pending_state: Buffer | null;
            version: number;
          }
        | undefined;
      if (!row) return undefined;
      let state: GroupRecord['state'];
      if (row.page_count !== null && isKnown(known, row.version, row.state)) state = known.state;
      else if (row.page_count === null) state = splitGroupState(bytes(row.state));
      else {
        const pages = (
          this.sql('SELECT bytes FROM group_pages WHERE group_id = ? ORDER BY page').raw().all(groupId) as [
            Buffer,
          ][]
        ).map(([page]) => bytes(page));
        // A save writes the secret part and its pages in one transaction: anything else is a damaged store.
        if (pages.length !== row.page_count)
          throw incompleteState(`the stored tree of ${groupId} is incomplete`);
        state = { secrets: bytes(row.state), pages };
      }
      return {
        state,
        seq: row.seq,
        version: row.version,
        ...(row.pending_id && row.pending_state
          ? { pending: { clientMsgId: row.pending_id, state: bytes(row.pending_state) } }
          : {}),
      };
    })();
  }

  async groupIds(): Promise<string[]> {
    return (this.sql('SELECT group_id FROM groups').all() as { group_id: string }[]).map((r) => r.group_id);
  }

  async pendingGroupIds(): Promise<string[]> {
    return (
      this.sql(
        'SELECT group_id FROM groups WHERE pending_id IS NOT NULL AND pending_state IS NOT NULL',
      ).all() as {
        group_id: string;
      }[]
    ).map((r) => r.group_id);
  }

  async saveGroup(
    groupId: string,
    record: GroupSave,
    expectedVersion: number | undefined,
    extras: GroupSaveExtras = {},
  ): Promise<boolean> {
    const change = record.state;
    if (change) checkChange(change);
    // One transaction: the version check, the secret part, the pages, the messages and the outbox
    // item commit together or not at all (a crash cannot leave one epoch's secrets with another's tree).
    return this.db
      .transaction(() => {
        const current = this.sql('SELECT version FROM groups WHERE group_id = ?').get(groupId) as
          | { version: number }
          | undefined;
        if (current?.version !== expectedVersion) return false;
        const version = (expectedVersion ?? 0) + 1;
        const pending = [record.pending?.clientMsgId ?? null, record.pending?.state ?? null] as const;
        if (change === undefined) {
          if (current === undefined) throw incompleteState('no state saved yet');
          this.sql(
            'UPDATE groups SET seq = ?, pending_id = ?, pending_state = ?, version = ? WHERE group_id = ?',
          ).run(record.seq, ...pending, version, groupId);
        } else {
          this.sql(
            `INSERT INTO groups (group_id, state, page_count, seq, pending_id, pending_state, version)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (group_id) DO UPDATE SET state = excluded.state, page_count = excluded.page_count,
                 seq = excluded.seq, pending_id = excluded.pending_id, pending_state = excluded.pending_state,
                 version = excluded.version`,
          ).run(groupId, change.secrets, change.pageCount, record.seq, ...pending, version);
          // Pages beyond the count belong to a larger tree (or to a group saved whole before: none).
          this.sql('DELETE FROM group_pages WHERE group_id = ? AND page >= ?').run(groupId, change.pageCount);
          const put = this.sql(
            `INSERT INTO group_pages (group_id, page, bytes) VALUES (?, ?, ?)
             ON CONFLICT (group_id, page) DO UPDATE SET bytes = excluded.bytes`,
          );
          for (const [page, pageBytes] of change.pages) put.run(groupId, page, pageBytes);
          const { n } = this.sql('SELECT COUNT(*) AS n FROM group_pages WHERE group_id = ?').get(groupId) as {
            n: number;
          };
          // Throwing rolls the whole save back.
          if (n !== change.pageCount)
            throw incompleteState(`${change.pageCount - n} tree page(s) neither saved nor stored`);
        }
        this.insertMessages(extras.messages ?? []);
        this.applyActions(extras.actions ?? []);
        if (extras.outbox) {
          this.putOutbox(extras.outbox);
          // An encrypted draft is the outbox's now: one or the other holds it, never both or neither.
          this.removeDraft(extras.outbox.clientMsgId);
        }
        if (extras.accepted) this.acceptSentNow(groupId, extras.accepted);
        // The entry's position commits with its effect: one transaction, one disk sync per entry.
        if (extras.cursor !== undefined) this.setLastSeq(groupId, extras.cursor);
        if (extras.usedKeyPackage)
          this.sql('DELETE FROM key_packages WHERE ref = ?').run(extras.usedKeyPackage);
        if (extras.mailboxCursor !== undefined && extras.mailboxCursor > this.lastMailboxSeq())
          this.setMeta('mailbox_seq', extras.mailboxCursor);
        return true;
      })
      .immediate();
  }

  /** Inserts messages not kept yet; each takes the actions kept aside for it, in log order. */
  private insertMessages(messages: readonly StoredMessage[]): void {
    const insert = this.sql(
      `INSERT INTO messages (group_id, seq, client_msg_id, sender_account_id, sender_device_id, sent_at_ms, text,
         outgoing, shown, roster, file, unsupported, marks, sticker)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, sender_device_id, client_msg_id) DO NOTHING`,
    );
    for (const message of messages) {
      const waiting = this.takePendingActions(message);
      const m = inLogOrder(waiting).reduce(applyAction, message);
      insert.run(
        m.groupId,
        m.seq,
        m.clientMsgId,
        m.senderAccountId,
        m.senderDeviceId,
        m.sentAtMs,
        m.text,
        m.outgoing ? 1 : 0,
        m.outgoing ? 1 : 0,
        m.roster ? JSON.stringify(m.roster) : null,
        m.file ? JSON.stringify(m.file) : null,
        m.unsupported ? JSON.stringify(m.unsupported) : null,
        marksOf(m),
        m.sticker ? JSON.stringify(m.sticker) : null,
      );
    }
  }

  private takePendingActions(m: StoredMessage): MessageAction[] {
    const where = 'WHERE group_id = ? AND target_device_id = ? AND target_msg_id = ?';
    const rows = this.sql(`SELECT action FROM pending_actions ${where}`).all(
      m.groupId,
      m.senderDeviceId,
      m.clientMsgId,
    ) as { action: string }[];
    if (rows.length === 0) return [];
    this.sql(`DELETE FROM pending_actions ${where}`).run(m.groupId, m.senderDeviceId, m.clientMsgId);
    return rows.map((r) => JSON.parse(r.action) as MessageAction);
  }

  /** Applies actions to their messages, or keeps them aside until the message arrives. */
  private applyActions(actions: readonly MessageAction[]): void {
    for (const action of actions) {
      const { groupId, target } = action;
      const kept = this.sql(
        'SELECT * FROM messages WHERE group_id = ? AND sender_device_id = ? AND client_msg_id = ?',
      ).get(groupId, target.senderDeviceId, target.clientMsgId) as MessageRow | undefined;
      if (!kept) {
        this.sql(
          `INSERT OR IGNORE INTO pending_actions (group_id, target_device_id, target_msg_id, sender_device_id,
               client_msg_id, action) VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(
          groupId,
          target.senderDeviceId,
          target.clientMsgId,
          action.senderDeviceId,
          action.clientMsgId,
          JSON.stringify(action),
        );
        continue;
      }
      const next = applyAction(toMessage(kept), action);
      this.sql(
        'UPDATE messages SET text = ?, file = ?, unsupported = ?, marks = ?, sticker = ? WHERE id = ?',
      ).run(
        next.text,
        next.file ? JSON.stringify(next.file) : null,
        next.unsupported ? JSON.stringify(next.unsupported) : null,
        marksOf(next),
        next.sticker ? JSON.stringify(next.sticker) : null,
        kept.id,
      );
    }
  }

  async message(
    groupId: string,
    ref: Pick<StoredMessage, 'senderDeviceId' | 'clientMsgId'>,
  ): Promise<StoredMessage | undefined> {
    const row = this.sql(
      'SELECT * FROM messages WHERE group_id = ? AND sender_device_id = ? AND client_msg_id = ?',
    ).get(groupId, ref.senderDeviceId, ref.clientMsgId) as MessageRow | undefined;
    if (!row) return undefined;
    const { id: _id, ...message } = toMessage(row);
    return message;
  }

  /** The message at a log position of a chat (what history prints as #seq), if this device keeps it. */
  messageAt(groupId: string, seq: number): StoredMessage | undefined {
    const row = this.sql(
      'SELECT * FROM messages WHERE group_id = ? AND seq = ? AND roster IS NULL ORDER BY id LIMIT 1',
    ).get(groupId, seq) as MessageRow | undefined;
    if (!row) return undefined;
    const { id: _id, ...message } = toMessage(row);
    return message;
  }

  async addMessages(messages: readonly StoredMessage[], cursor?: ChatCursor): Promise<void> {
    this.db.transaction(() => {
      this.insertMessages(messages);
      if (cursor) this.setLastSeq(cursor.groupId, cursor.seq);
    })();
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.db.transaction(() => {
      this.sql('DELETE FROM groups WHERE group_id = ?').run(groupId);
      this.sql('DELETE FROM group_pages WHERE group_id = ?').run(groupId);
    })();
  }

  async stash(groupId: string, entry: StashedEntry): Promise<void> {
    this.db.transaction(() => {
      this.sql('INSERT OR IGNORE INTO stash (group_id, seq, entry) VALUES (?, ?, ?)').run(
        groupId,
        entry.seq,
        JSON.stringify({ ...entry, payload: Buffer.from(entry.payload).toString('base64') }),
      );
      this.setLastSeq(groupId, entry.seq);
    })();
  }

  async takeStash(groupId: string): Promise<StashedEntry[]> {
    return this.db
      .transaction(() => {
        const rows = this.sql('SELECT entry FROM stash WHERE group_id = ? ORDER BY seq').all(groupId) as {
          entry: string;
        }[];
        this.sql('DELETE FROM stash WHERE group_id = ?').run(groupId);
        return rows.map((r) => {
          const parsed = JSON.parse(r.entry) as StashedEntry & { payload: string };
          return { ...parsed, payload: new Uint8Array(Buffer.from(parsed.payload, 'base64')) };
        });
      })
      .immediate();
  }

  async messages(groupId: string): Promise<StoredMessage[]> {
    return (
      this.sql('SELECT * FROM messages WHERE group_id = ? ORDER BY id').all(groupId) as MessageRow[]
    ).map(toMessage);
  }

  /** File messages this device holds (what `courier download` can fetch), newest first. */
  fileMessages(): StoredMessage[] {
    return (
      this.sql('SELECT * FROM messages WHERE file IS NOT NULL ORDER BY id DESC').all() as MessageRow[]
    ).map(toMessage);
  }

  async history(groupId: string, page: { before?: HistoryCursor; limit: number }): Promise<HistoryPage> {
    checkPage(page);
    // One more than the page tells whether an older page exists.
    const rows = (
      page.before === undefined
        ? this.sql('SELECT * FROM messages WHERE group_id = ? ORDER BY id DESC LIMIT ?').all(
            groupId,
            page.limit + 1,
          )
        : this.sql('SELECT * FROM messages WHERE group_id = ? AND id < ? ORDER BY id DESC LIMIT ?').all(
            groupId,
            page.before,
            page.limit + 1,
          )
    ) as MessageRow[];
    const messages = rows.slice(0, page.limit);
    const oldest = messages.at(-1);
    return {
      messages: messages.map((r) => {
        const { id: _id, ...message } = toMessage(r);
        return message;
      }),
      ...(rows.length > page.limit && oldest ? { before: oldest.id } : {}),
    };
  }

  async acceptSent(
    groupId: string,
    sent: { senderDeviceId: string; clientMsgId: string; seq: number },
  ): Promise<void> {
    this.acceptSentNow(groupId, sent);
  }

  private acceptSentNow(
    groupId: string,
    sent: { senderDeviceId: string; clientMsgId: string; seq: number },
  ): void {
    this.sql(
      'UPDATE messages SET seq = ? WHERE group_id = ? AND sender_device_id = ? AND client_msg_id = ?',
    ).run(sent.seq, groupId, sent.senderDeviceId, sent.clientMsgId);
  }

  async chatState(groupId: string): Promise<ChatState> {
    return this.readChatState(groupId);
  }

  private readChatState(groupId: string): ChatState {
    const row = this.sql('SELECT * FROM chat_states WHERE group_id = ?').get(groupId) as
      | { delivered_up_to: number; read_up_to: number; my_read_up_to: number }
      | undefined;
    return row
      ? { deliveredUpTo: row.delivered_up_to, readUpTo: row.read_up_to, myReadUpTo: row.my_read_up_to }
      : noChatState();
  }

  async advanceChatState(groupId: string, patch: Partial<ChatState>): Promise<ChatState> {
    return this.db
      .transaction(() => {
        const next = mergeChatState(this.readChatState(groupId), patch);
        this.sql(
          `INSERT INTO chat_states (group_id, delivered_up_to, read_up_to, my_read_up_to) VALUES (?, ?, ?, ?)
             ON CONFLICT (group_id) DO UPDATE SET delivered_up_to = excluded.delivered_up_to,
               read_up_to = excluded.read_up_to, my_read_up_to = excluded.my_read_up_to`,
        ).run(groupId, next.deliveredUpTo, next.readUpTo, next.myReadUpTo);
        return next;
      })
      .immediate();
  }

  async unreadCount(groupId: string): Promise<number> {
    const { myReadUpTo } = this.readChatState(groupId);
    return (
      this.sql(
        'SELECT COUNT(*) AS n FROM messages WHERE group_id = ? AND seq > ? AND outgoing = 0 AND roster IS NULL',
      ).get(groupId, myReadUpTo) as { n: number }
    ).n;
  }

  /** Every chat this device holds messages of (also chats it has left). */
  messageGroupIds(): string[] {
    return (
      this.sql('SELECT DISTINCT group_id FROM messages ORDER BY group_id').all() as {
        group_id: string;
      }[]
    ).map((r) => r.group_id);
  }

  /** Received messages not shown yet (of one chat, or all), oldest first; they count as shown now. */
  takeUnshown(groupId?: string): StoredMessage[] {
    return this.db
      .transaction(() => {
        const rows = (
          groupId === undefined
            ? this.sql('SELECT * FROM messages WHERE shown = 0 ORDER BY id').all()
            : this.sql('SELECT * FROM messages WHERE shown = 0 AND group_id = ? ORDER BY id').all(groupId)
        ) as MessageRow[];
        const mark = this.sql('UPDATE messages SET shown = 1 WHERE id = ?');
        for (const r of rows) mark.run(r.id);
        return rows.map(toMessage);
      })
      .immediate();
  }

  /** Marks one received message as shown (a live listener printed it). */
  markShown(message: Pick<StoredMessage, 'groupId' | 'senderDeviceId' | 'clientMsgId'>): void {
    this.sql(
      'UPDATE messages SET shown = 1 WHERE group_id = ? AND sender_device_id = ? AND client_msg_id = ?',
    ).run(message.groupId, message.senderDeviceId, message.clientMsgId);
  }

  async knownKeys(accountId: string): Promise<Record<string, string>> {
    const row = this.sql('SELECT keys FROM known_keys WHERE account_id = ?').get(accountId) as
      | { keys: string }
      | undefined;
    return row ? (JSON.parse(row.keys) as Record<string, string>) : {};
  }

  async setKnownKeys(keys: ReadonlyMap<string, Record<string, string>>): Promise<void> {
    if (keys.size === 0) return;
    const put = this.sql(
      'INSERT INTO known_keys (account_id, keys) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET keys = excluded.keys',
    );
    // One transaction (one disk sync) for all of them.
    this.db.transaction(() => {
      for (const [accountId, devices] of keys) put.run(accountId, JSON.stringify(devices));
    })();
  }
}
