import type { StickerRef } from '../content/sticker-content.ts';
import type { FileDescriptor } from '../media/file-descriptor.ts';
import { applyAction, inLogOrder, type MessageAction } from '../actions/message-action.ts';
import { isRefOf, type MessageRef } from '../content/message-ref.ts';
import {
  applyGroupStateChange,
  type GroupStateChange,
  type GroupStateParts,
  type StoredKeyPackage,
} from '@courier/mls';
import { CourierError, type RosterEvent } from '@courier/protocol';
import { type ClientStore, MemoryClientStore, type OutboxItem } from '../client-store.ts';

/** The device's MLS identity. The private key never leaves the device's store. */
export interface StoredIdentity {
  accountId: string;
  deviceId: string;
  signaturePublicKey: Uint8Array;
  signaturePrivateKey: Uint8Array;
  /** The server's device-certification key, pinned on first use. */
  certificationKey: Uint8Array;
}

/** A commit this device made, saved before it is submitted so that a crash cannot lose it. */
export interface PendingCommit {
  clientMsgId: string;
  /** The group at the commit's new epoch, as what it changes from the stored state (sdk pending-commit.ts). */
  state: Uint8Array;
}

/** One chat's MLS state on this device. */
export interface GroupRecord {
  /**
   * The group's saved state in its two parts (`exportGroupStateParts`): the secret part and the tree's
   * pages, which a store keeps as one record per page. State a store saved as one byte array before
   * (exportGroupState, any version) reads as `splitGroupState` of it.
   */
  state: GroupStateParts;
  /** The highest entry of the chat's log this state reflects. */
  seq: number;
  pending?: PendingCommit;
  /** Bumped by every save: a save against an older version fails (another process moved on). */
  version: number;
}

/** A group state the caller holds, and the stored version it is (see `MlsStore.group`). */
export interface KnownGroupState {
  version: number;
  state: GroupStateParts;
}

/** Whether a state the caller holds is the stored one: the same version and the same secret part. */
export function isKnown(
  known: KnownGroupState | undefined,
  version: number,
  secrets: Uint8Array,
): known is KnownGroupState {
  if (known?.version !== version || known.state.secrets.length !== secrets.length) return false;
  for (let i = 0; i < secrets.length; i++) if (known.state.secrets[i] !== secrets[i]) return false;
  return true;
}

/**
 * What a group save writes. `state` is the change from the state stored at the expected version
 * (`groupStateChange(record.state, parts)`): the secret part, the page count and only the pages whose
 * bytes changed. Absent, the stored state stays as it is (only the position or the pending commit
 * moves). The secret part and the pages of one save are written in one transaction with the rest.
 */
export interface GroupSave {
  state?: GroupStateChange;
  seq: number;
  pending?: PendingCommit;
}

/** The refusal of a save that would leave a group's state incomplete: nothing of the save is written. */
export function incompleteState(detail: string): CourierError {
  return new CourierError('REQ_INVALID', { message: `A group save must leave a whole state: ${detail}.` });
}

/**
 * The state a change leaves over the stored one, checked: every page below the count either saved now or
 * stored, no saved page beyond the count (CourierError REQ_INVALID otherwise).
 */
export function changedState(stored: GroupStateParts | undefined, change: GroupStateChange): GroupStateParts {
  checkChange(change);
  try {
    return applyGroupStateChange(stored, change);
  } catch (error) {
    throw incompleteState((error as Error).message);
  }
}

/** The checks every store makes before writing a change (CourierError REQ_INVALID). */
export function checkChange(change: GroupStateChange): void {
  if (!Number.isSafeInteger(change.pageCount) || change.pageCount < 0)
    throw incompleteState('the page count is not a count');
  for (const i of change.pages.keys())
    if (!Number.isSafeInteger(i) || i < 0 || i >= change.pageCount)
      throw incompleteState(`page ${i} is outside the tree`);
}

/** A message as the device keeps it: what it received (decrypted) and what it sent. */
export interface StoredMessage {
  groupId: string;
  /** Position in the chat's log (0 until the server accepted a sent message). */
  seq: number;
  clientMsgId: string;
  senderAccountId: string;
  senderDeviceId: string;
  sentAtMs: number;
  text: string;
  outgoing: boolean;
  /** Set for a roster change the server recorded in the chat's log (text is then empty). */
  roster?: RosterEvent;
  /** Set for a file message (text is then empty): what `downloadDecryptedFile` needs. */
  file?: FileDescriptor;
  /** Set for a sticker message (text is then empty): which sticker of which public pack. */
  sticker?: StickerRef;
  /**
   * Set for a message whose content type (or version of it) this client does not read: kept and
   * shown as "unsupported, update Courier" (text is then empty), never dropped.
   */
  unsupported?: { type: string; v: number };
  /** Set for a reply: the message it answers, and the quote the reply carried. */
  replyTo?: MessageRef & { quote: string };
  /** Set for a message forwarded from another chat: who wrote it first, and when. */
  forwarded?: { accountId: string; sentAtMs: number };
  /** Set once its sender edited it: when, and the earlier texts (kept on this device only). */
  edited?: { atMs: number; earlier: { text: string; atMs: number }[] };
  /** Set once its sender deleted it for everyone: its content is gone from this device. */
  deleted?: { atMs: number };
  /** Emoji reactions, in the order first added: who added each (the count is `by.length`). */
  reactions?: Reaction[];
  /** A sent message's state, as `SecureClient.history` reports it (not kept in the store). */
  status?: MessageStatus;
}

/** One emoji on a message and the accounts that added it. */
export interface Reaction {
  emoji: string;
  by: string[];
}

/**
 * Where a sent message is: in the outbox, stored by the server, delivered to (decrypted by) another
 * person's device, read by another person.
 */
export type MessageStatus = 'queued' | 'stored' | 'delivered' | 'read';

/** Where a page of history starts: opaque, taken from the page before it. */
export type HistoryCursor = number;

/** One page of a chat's history, newest first. */
export interface HistoryPage {
  messages: StoredMessage[];
  /** Pass as `before` for the next (older) page; absent when this page reaches the chat's start. */
  before?: HistoryCursor;
}

/** What receipts told this device about a chat, as log positions (0: nothing yet). */
export interface ChatState {
  /** Another person's device has this chat's messages up to here. */
  deliveredUpTo: number;
  /** Another person has read this chat up to here. */
  readUpTo: number;
  /** This person (on any of their devices) has read this chat up to here. */
  myReadUpTo: number;
}

/** An entry that arrived before this device joined the chat's MLS group (kept until it joins). */
export interface StashedEntry {
  seq: number;
  kind: 'message' | 'commit';
  senderAccountId: string;
  senderDeviceId: string;
  clientMsgId: string;
  payload: Uint8Array;
  sentAtMs: number;
}

/** A chat's cursor: the highest entry of its log the device has handled. */
export interface ChatCursor {
  groupId: string;
  seq: number;
}

/** What a group save carries besides the state, written in the same atomic step. */
export interface GroupSaveExtras {
  messages?: StoredMessage[];
  outbox?: OutboxItem;
  /**
   * Edits, deletions and reactions to apply (`applyAction`) to the messages they name, in the same
   * step. One whose message is not kept (yet) is kept aside and applied when that message arrives;
   * a message added by this save first takes the actions kept aside for it, in log order.
   */
  actions?: MessageAction[];
  /**
   * The log position of the entry this save handles: the chat's cursor (`lastSeq`, which only grows)
   * moves to it in the same atomic step, so that handling an entry is one write (one disk sync) and a
   * crash cannot keep the entry's effect without its position, or the position without the effect.
   */
  cursor?: number;
  /** A message this device sent, stored by the server at `seq` (as `acceptSent`), in the same step. */
  accepted?: { senderDeviceId: string; clientMsgId: string; seq: number };
  /** A one-time key package a Welcome used up (removed as `removeKeyPackage`), in the same step. */
  usedKeyPackage?: Uint8Array;
  /**
   * The mailbox item this save handles (a Welcome): the mailbox cursor (`lastMailboxSeq`, which only
   * grows) moves to it in the same step.
   */
  mailboxCursor?: number;
}

/**
 * The device's end-to-end-encryption store: identity, key packages, per-chat MLS state and the
 * messages it holds. Every save of a chat's state is atomic with the messages it produced, and
 * optimistic: it fails when another process (a `courier send` beside a `courier listen`) saved first.
 */
export interface MlsStore extends ClientStore {
  identity(): Promise<StoredIdentity | undefined>;
  saveIdentity(identity: StoredIdentity): Promise<void>;
  keyPackages(): Promise<StoredKeyPackage[]>;
  addKeyPackages(keyPackages: readonly StoredKeyPackage[]): Promise<void>;
  removeKeyPackage(ref: Uint8Array): Promise<void>;
  /**
   * The chat's MLS state. Given `known` (state the caller holds of a version), a record still at that
   * version with the same secret part (versions start again when a group is deleted and saved anew)
   * carries `known.state` as it is, without reading the tree's pages again.
   */
  group(groupId: string, known?: KnownGroupState): Promise<GroupRecord | undefined>;
  groupIds(): Promise<string[]>;
  /** The chats whose stored record has a pending commit (read without their trees' pages). */
  pendingGroupIds(): Promise<string[]>;
  /**
   * Saves when the stored version is `expectedVersion` (undefined: nothing stored); false otherwise.
   * Throws CourierError REQ_INVALID, writing nothing, when the result would not be a whole state (a
   * page neither saved nor stored, a page beyond the count, no state at all).
   */
  saveGroup(
    groupId: string,
    record: GroupSave,
    expectedVersion: number | undefined,
    extras?: GroupSaveExtras,
  ): Promise<boolean>;
  deleteGroup(groupId: string): Promise<void>;
  /** Keeps an entry until the Welcome arrives; the chat's cursor moves to it in the same step. */
  stash(groupId: string, entry: StashedEntry): Promise<void>;
  /** Removes and returns the stashed entries of a chat, in log order. */
  takeStash(groupId: string): Promise<StashedEntry[]>;
  messages(groupId: string): Promise<StoredMessage[]>;
  /** The message a reference names, as kept now (actions applied), or undefined. */
  message(
    groupId: string,
    ref: Pick<MessageRef, 'senderDeviceId' | 'clientMsgId'>,
  ): Promise<StoredMessage | undefined>;
  /**
   * A page of a chat's history, newest first: up to `limit` messages older than `before` (from the
   * newest when absent), in the order this device stored them. Reads only the page (an index by
   * chat and position), so a chat of 100,000 messages opens as fast as one of 10.
   */
  history(groupId: string, page: { before?: HistoryCursor; limit: number }): Promise<HistoryPage>;
  /** The server stored a message this device sent (kept with position 0 until then) at `seq`. */
  acceptSent(
    groupId: string,
    sent: { senderDeviceId: string; clientMsgId: string; seq: number },
  ): Promise<void>;
  /** What receipts told this device about the chat (zeros when nothing). */
  chatState(groupId: string): Promise<ChatState>;
  /** Moves the chat's receipt positions forward (never back); returns the result. */
  advanceChatState(groupId: string, patch: Partial<ChatState>): Promise<ChatState>;
  /** Received messages (not roster changes) after `myReadUpTo`. */
  unreadCount(groupId: string): Promise<number>;
  /**
   * Keeps messages that belong to no group state (roster changes); a message kept already is not
   * doubled. Given `cursor`, that chat's cursor moves to its position in the same step.
   */
  addMessages(messages: readonly StoredMessage[], cursor?: ChatCursor): Promise<void>;
  /** Every device key this device has seen per account (to notice a changed or added key). */
  knownKeys(accountId: string): Promise<Record<string, string>>;
  /**
   * Saves the keys of several accounts at once (account → device → key), in one transaction: a device
   * joining a large group learns every member's keys together, not one write (and one disk sync) each.
   */
  setKnownKeys(keys: ReadonlyMap<string, Record<string, string>>): Promise<void>;
}

/** The largest limit of one history page. */
export const MAX_HISTORY_PAGE = 500;

/** Checks a page request the same way for every store (CourierError REQ_INVALID). */
export function checkPage(page: { before?: HistoryCursor; limit: number }): void {
  if (!Number.isSafeInteger(page.limit) || page.limit < 1 || page.limit > MAX_HISTORY_PAGE)
    throw new CourierError('REQ_INVALID', {
      message: `A history page has 1 to ${MAX_HISTORY_PAGE} messages.`,
    });
  if (page.before !== undefined && (!Number.isSafeInteger(page.before) || page.before < 0))
    throw new CourierError('REQ_INVALID', { message: 'That history cursor is not one this device gave.' });
}

export const noChatState = (): ChatState => ({ deliveredUpTo: 0, readUpTo: 0, myReadUpTo: 0 });

/** The state after a patch: each position only moves forward. */
export function mergeChatState(state: ChatState, patch: Partial<ChatState>): ChatState {
  return {
    deliveredUpTo: Math.max(state.deliveredUpTo, patch.deliveredUpTo ?? 0, patch.readUpTo ?? 0),
    readUpTo: Math.max(state.readUpTo, patch.readUpTo ?? 0),
    myReadUpTo: Math.max(state.myReadUpTo, patch.myReadUpTo ?? 0),
  };
}

/**
 * A sent message's status from its position and the chat's receipt positions; with read receipts
 * off, another person's read shows as delivered.
 */
export function messageStatus(seq: number, state: ChatState, readReceipts = true): MessageStatus {
  if (seq === 0) return 'queued';
  if (readReceipts && seq <= state.readUpTo) return 'read';
  if (seq <= state.deliveredUpTo) return 'delivered';
  return 'stored';
}

/** A message that counts as unread when it is after the read position. */
export const countsAsUnread = (m: StoredMessage) => !m.outgoing && m.roster === undefined && m.seq > 0;

const copy = (bytes: Uint8Array) => new Uint8Array(bytes);
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The store in memory, for tests and for clients that keep nothing between runs. */
export class MemoryMlsStore extends MemoryClientStore implements MlsStore {
  private identityValue: StoredIdentity | undefined;
  private readonly packages = new Map<string, StoredKeyPackage>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly stashes = new Map<string, StashedEntry[]>();
  private readonly kept = new Map<string, StoredMessage[]>();
  private readonly keys = new Map<string, Record<string, string>>();
  private readonly states = new Map<string, ChatState>();
  /** Actions whose message is not kept (yet). */
  private waiting: MessageAction[] = [];

  async identity(): Promise<StoredIdentity | undefined> {
    return this.identityValue;
  }

  async saveIdentity(identity: StoredIdentity): Promise<void> {
    this.identityValue = identity;
  }

  async keyPackages(): Promise<StoredKeyPackage[]> {
    return [...this.packages.values()];
  }

  async addKeyPackages(keyPackages: readonly StoredKeyPackage[]): Promise<void> {
    for (const kp of keyPackages) this.packages.set(hex(kp.ref), kp);
  }

  async removeKeyPackage(ref: Uint8Array): Promise<void> {
    this.packages.delete(hex(ref));
  }

  async group(groupId: string, known?: KnownGroupState): Promise<GroupRecord | undefined> {
    const record = this.groups.get(groupId);
    if (!record) return undefined;
    if (isKnown(known, record.version, record.state.secrets)) return { ...record, state: known.state };
    return { ...record, state: { secrets: copy(record.state.secrets), pages: record.state.pages.map(copy) } };
  }

  async groupIds(): Promise<string[]> {
    return [...this.groups.keys()];
  }

  async pendingGroupIds(): Promise<string[]> {
    return [...this.groups].flatMap(([groupId, record]) => (record.pending ? [groupId] : []));
  }

  async saveGroup(
    groupId: string,
    record: GroupSave,
    expectedVersion: number | undefined,
    extras: GroupSaveExtras = {},
  ): Promise<boolean> {
    const current = this.groups.get(groupId);
    if (current?.version !== expectedVersion) return false;
    let state: GroupStateParts;
    if (record.state === undefined) {
      if (current === undefined) throw incompleteState('no state saved yet');
      state = current.state;
    } else {
      // Unchanged pages are the stored arrays; saved ones are copied (the caller keeps its own).
      const next = changedState(current?.state, record.state);
      state = {
        secrets: copy(next.secrets),
        pages: next.pages.map((page, i) => (record.state!.pages.has(i) ? copy(page) : page)),
      };
    }
    this.groups.set(groupId, {
      state,
      seq: record.seq,
      ...(record.pending ? { pending: { ...record.pending, state: copy(record.pending.state) } } : {}),
      version: (expectedVersion ?? 0) + 1,
    });
    if (extras.messages?.length) {
      const list = this.kept.get(groupId) ?? [];
      for (const m of extras.messages) {
        const waiting = this.waiting.filter((a) => a.groupId === m.groupId && isRefOf(a.target, m));
        this.waiting = this.waiting.filter((a) => !waiting.includes(a));
        list.push(inLogOrder(waiting).reduce(applyAction, m));
      }
      this.kept.set(groupId, list);
    }
    for (const action of extras.actions ?? []) {
      const list = this.kept.get(action.groupId) ?? [];
      const at = list.findIndex((m) => isRefOf(action.target, m));
      if (at >= 0) list[at] = applyAction(list[at]!, action);
      else this.waiting.push(action);
    }
    if (extras.outbox) this.putOutbox(extras.outbox);
    if (extras.accepted) await this.acceptSent(groupId, extras.accepted);
    if (extras.cursor !== undefined) this.setLastSeq(groupId, extras.cursor);
    if (extras.usedKeyPackage) this.packages.delete(hex(extras.usedKeyPackage));
    if (extras.mailboxCursor !== undefined) this.setLastMailboxSeq(extras.mailboxCursor);
    return true;
  }

  async message(
    groupId: string,
    ref: Pick<MessageRef, 'senderDeviceId' | 'clientMsgId'>,
  ): Promise<StoredMessage | undefined> {
    return (this.kept.get(groupId) ?? []).find((m) => isRefOf(ref, m));
  }

  async acceptSent(
    groupId: string,
    sent: { senderDeviceId: string; clientMsgId: string; seq: number },
  ): Promise<void> {
    {
      const { senderDeviceId, clientMsgId, seq } = sent;
      const list = this.kept.get(groupId) ?? [];
      // The newest messages are the likely ones: look from the end.
      for (let i = list.length - 1; i >= 0; i--) {
        const m = list[i]!;
        if (m.senderDeviceId === senderDeviceId && m.clientMsgId === clientMsgId) {
          list[i] = { ...m, seq };
          break;
        }
      }
    }
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.groups.delete(groupId);
  }

  async stash(groupId: string, entry: StashedEntry): Promise<void> {
    const list = this.stashes.get(groupId) ?? [];
    if (!list.some((e) => e.seq === entry.seq)) list.push(entry);
    this.stashes.set(groupId, list);
    this.setLastSeq(groupId, entry.seq);
  }

  async takeStash(groupId: string): Promise<StashedEntry[]> {
    const list = this.stashes.get(groupId) ?? [];
    this.stashes.delete(groupId);
    return list.sort((a, b) => a.seq - b.seq);
  }

  async messages(groupId: string): Promise<StoredMessage[]> {
    return [...(this.kept.get(groupId) ?? [])];
  }

  async history(groupId: string, page: { before?: HistoryCursor; limit: number }): Promise<HistoryPage> {
    checkPage(page);
    const list = this.kept.get(groupId) ?? [];
    // The cursor is a position in the chat's list, which only grows at its end.
    const end = Math.min(page.before ?? list.length, list.length);
    const start = Math.max(0, end - page.limit);
    const messages = list.slice(start, end).reverse();
    return start > 0 ? { messages, before: start } : { messages };
  }

  async chatState(groupId: string): Promise<ChatState> {
    return { ...(this.states.get(groupId) ?? noChatState()) };
  }

  async advanceChatState(groupId: string, patch: Partial<ChatState>): Promise<ChatState> {
    const next = mergeChatState(this.states.get(groupId) ?? noChatState(), patch);
    this.states.set(groupId, next);
    return { ...next };
  }

  async unreadCount(groupId: string): Promise<number> {
    const { myReadUpTo } = this.states.get(groupId) ?? noChatState();
    const list = this.kept.get(groupId) ?? [];
    let count = 0;
    // Received messages are kept in log order: count back to the first one already read.
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i]!;
      if (!countsAsUnread(m)) continue;
      if (m.seq <= myReadUpTo) break;
      count++;
    }
    return count;
  }

  async addMessages(messages: readonly StoredMessage[], cursor?: ChatCursor): Promise<void> {
    if (cursor) this.setLastSeq(cursor.groupId, cursor.seq);
    for (const message of messages) {
      const list = this.kept.get(message.groupId) ?? [];
      const same = (m: StoredMessage) =>
        m.senderDeviceId === message.senderDeviceId && m.clientMsgId === message.clientMsgId;
      if (!list.some(same)) list.push(message);
      this.kept.set(message.groupId, list);
    }
  }

  async knownKeys(accountId: string): Promise<Record<string, string>> {
    return { ...(this.keys.get(accountId) ?? {}) };
  }

  async setKnownKeys(keys: ReadonlyMap<string, Record<string, string>>): Promise<void> {
    for (const [accountId, devices] of keys) this.keys.set(accountId, { ...devices });
  }
}
