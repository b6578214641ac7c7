import type { ClientStore, OutboxItem } from '@courier/sdk';
import { readJson, writeFileAtomic } from './atomic-file.ts';
import { withFileLock } from './file-lock.ts';

interface StoreFile {
  /** The account and device whose positions and outbox these are. */
  accountId?: string;
  deviceId?: string;
  seqs: Record<string, number>;
  mailboxSeq: number;
  outbox: { kind: OutboxItem['kind']; target: string; clientMsgId: string; payload: string }[];
}

const empty = (): StoreFile => ({ seqs: {}, mailboxSeq: 0, outbox: [] });

/**
 * The SDK's client store in one JSON file, so a restart resumes exactly where the last run
 * stopped: nothing shown twice, nothing unsent forgotten.
 *
 * Several processes may share a profile (a `listen` in one terminal, a `send` in another), so
 * every change is a locked read-modify-write of the file as it is on disk, written atomically
 * (temp file + rename, mode 0600): positions only grow and one process's outbox changes never
 * undo another's.
 */
export class FileClientStore implements ClientStore {
  private data: StoreFile;

  constructor(private readonly path: string) {
    this.data = this.load();
  }

  private load(): StoreFile {
    const file = readJson<Partial<StoreFile>>(this.path);
    return { ...empty(), ...file };
  }

  /** Applies `change` to the file's current content; `change` says whether anything changed. */
  private update(change: (data: StoreFile) => boolean): void {
    withFileLock(`${this.path}.lock`, () => {
      const current = this.load();
      if (change(current)) writeFileAtomic(this.path, JSON.stringify(current));
      this.data = current;
    });
  }

  /**
   * Binds the store to the device that uses it. Another account's positions would hide entries
   * of groups both are in, so they are dropped; a new device of the same account keeps them (what
   * was shown on this machine is not shown again) but not the outbox, which only the device that
   * queued a message may re-send (the server recognises a retry by sender device and client
   * message id). Returns how many queued messages were dropped.
   */
  bindTo(accountId: string, deviceId: string): number {
    let dropped = 0;
    this.update((data) => {
      if (data.accountId === accountId && data.deviceId === deviceId) return false;
      const legacy = data.accountId === undefined; // written before stores were bound: same device
      if (!legacy && data.accountId !== accountId) data.seqs = {};
      if (!legacy) {
        dropped = data.outbox.length;
        data.outbox = [];
        data.mailboxSeq = 0;
      }
      data.accountId = accountId;
      data.deviceId = deviceId;
      return true;
    });
    return dropped;
  }

  lastSeq(groupId: string): number {
    return this.data.seqs[groupId] ?? 0;
  }

  setLastSeq(groupId: string, seq: number): void {
    if (seq <= this.lastSeq(groupId)) return;
    this.update((data) => {
      if (seq <= (data.seqs[groupId] ?? 0)) return false;
      data.seqs[groupId] = seq;
      return true;
    });
  }

  lastMailboxSeq(): number {
    return this.data.mailboxSeq;
  }

  setLastMailboxSeq(seq: number): void {
    if (seq <= this.data.mailboxSeq) return;
    this.update((data) => {
      if (seq <= data.mailboxSeq) return false;
      data.mailboxSeq = seq;
      return true;
    });
  }

  outbox(): OutboxItem[] {
    return this.data.outbox.map((o) => ({ ...o, payload: new Uint8Array(Buffer.from(o.payload, 'base64')) }));
  }

  putOutbox(item: OutboxItem): void {
    const stored = { ...item, payload: Buffer.from(item.payload).toString('base64') };
    this.update((data) => {
      data.outbox = data.outbox.filter((o) => o.clientMsgId !== item.clientMsgId);
      data.outbox.push(stored);
      return true;
    });
  }

  removeOutbox(clientMsgId: string): void {
    this.update((data) => {
      const before = data.outbox.length;
      data.outbox = data.outbox.filter((o) => o.clientMsgId !== clientMsgId);
      return data.outbox.length !== before;
    });
  }
}
