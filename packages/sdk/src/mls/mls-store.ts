import type { FileDescriptor } from '../media/file-descriptor.ts';
import type { StoredKeyPackage } from '@courier/mls';
import type { RosterEvent } from '@courier/protocol';
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
  /** The group at the commit's new epoch (exportGroupState). */
  state: Uint8Array;
}

/** One chat's MLS state on this device. */
export interface GroupRecord {
  /** exportGroupState bytes: secret. */
  state: Uint8Array;
  /** The highest entry of the chat's log this state reflects. */
  seq: number;
  pending?: PendingCommit;
  /** Bumped by every save: a save against an older version fails (another process moved on). */
  version: number;
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

/** What a group save carries besides the state, written in the same atomic step. */
export interface GroupSaveExtras {
  messages?: StoredMessage[];
  outbox?: OutboxItem;
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
  group(groupId: string): Promise<GroupRecord | undefined>;
  groupIds(): Promise<string[]>;
  /** Saves when the stored version is `expectedVersion` (undefined: nothing stored); false otherwise. */
  saveGroup(
    groupId: string,
    record: Omit<GroupRecord, 'version'>,
    expectedVersion: number | undefined,
    extras?: GroupSaveExtras,
  ): Promise<boolean>;
  deleteGroup(groupId: string): Promise<void>;
  stash(groupId: string, entry: StashedEntry): Promise<void>;
  /** Removes and returns the stashed entries of a chat, in log order. */
  takeStash(groupId: string): Promise<StashedEntry[]>;
  messages(groupId: string): Promise<StoredMessage[]>;
  /** Keeps messages that belong to no group state (roster changes); a message kept already is not doubled. */
  addMessages(messages: readonly StoredMessage[]): Promise<void>;
  /** Every device key this device has seen per account (to notice a changed or added key). */
  knownKeys(accountId: string): Promise<Record<string, string>>;
  setKnownKeys(accountId: string, keys: Record<string, string>): Promise<void>;
}

const copy = (bytes: Uint8Array) => new Uint8Array(bytes);
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The store in memory, for tests and for clients that keep nothing between runs. */
export class MemoryMlsStore extends MemoryClientStore implements MlsStore {
  private identityValue: StoredIdentity | undefined;
  private readonly packages = new Map<string, StoredKeyPackage>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly stashes = new Map<string, StashedEntry[]>();
  private readonly history = new Map<string, StoredMessage[]>();
  private readonly keys = new Map<string, Record<string, string>>();

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

  async group(groupId: string): Promise<GroupRecord | undefined> {
    const record = this.groups.get(groupId);
    return record && { ...record, state: copy(record.state) };
  }

  async groupIds(): Promise<string[]> {
    return [...this.groups.keys()];
  }

  async saveGroup(
    groupId: string,
    record: Omit<GroupRecord, 'version'>,
    expectedVersion: number | undefined,
    extras: GroupSaveExtras = {},
  ): Promise<boolean> {
    if (this.groups.get(groupId)?.version !== expectedVersion) return false;
    this.groups.set(groupId, { ...record, state: copy(record.state), version: (expectedVersion ?? 0) + 1 });
    if (extras.messages?.length) {
      const list = this.history.get(groupId) ?? [];
      list.push(...extras.messages);
      this.history.set(groupId, list);
    }
    if (extras.outbox) this.putOutbox(extras.outbox);
    return true;
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.groups.delete(groupId);
  }

  async stash(groupId: string, entry: StashedEntry): Promise<void> {
    const list = this.stashes.get(groupId) ?? [];
    if (!list.some((e) => e.seq === entry.seq)) list.push(entry);
    this.stashes.set(groupId, list);
  }

  async takeStash(groupId: string): Promise<StashedEntry[]> {
    const list = this.stashes.get(groupId) ?? [];
    this.stashes.delete(groupId);
    return list.sort((a, b) => a.seq - b.seq);
  }

  async messages(groupId: string): Promise<StoredMessage[]> {
    return [...(this.history.get(groupId) ?? [])];
  }

  async addMessages(messages: readonly StoredMessage[]): Promise<void> {
    for (const message of messages) {
      const list = this.history.get(message.groupId) ?? [];
      const same = (m: StoredMessage) =>
        m.senderDeviceId === message.senderDeviceId && m.clientMsgId === message.clientMsgId;
      if (!list.some(same)) list.push(message);
      this.history.set(message.groupId, list);
    }
  }

  async knownKeys(accountId: string): Promise<Record<string, string>> {
    return { ...(this.keys.get(accountId) ?? {}) };
  }

  async setKnownKeys(accountId: string, keys: Record<string, string>): Promise<void> {
    this.keys.set(accountId, { ...keys });
  }
}
