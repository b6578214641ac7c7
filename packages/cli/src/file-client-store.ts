import type { ClientStore, OutboxItem } from '@courier/sdk';
import { readJson, writeFileAtomic } from './atomic-file.ts';

interface StoreFile {
  seqs: Record<string, number>;
  mailboxSeq: number;
  outbox: { kind: OutboxItem['kind']; target: string; clientMsgId: string; payload: string }[];
}

/**
 * The SDK's client store in one JSON file, rewritten atomically on every change, so a restart
 * resumes exactly where the last run stopped: nothing shown twice, nothing unsent forgotten.
 */
export class FileClientStore implements ClientStore {
  private readonly data: StoreFile;

  constructor(private readonly path: string) {
    this.data = readJson<StoreFile>(path) ?? { seqs: {}, mailboxSeq: 0, outbox: [] };
  }

  private save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.data));
  }

  lastSeq(groupId: string): number {
    return this.data.seqs[groupId] ?? 0;
  }

  setLastSeq(groupId: string, seq: number): void {
    if (seq <= this.lastSeq(groupId)) return;
    this.data.seqs[groupId] = seq;
    this.save();
  }

  lastMailboxSeq(): number {
    return this.data.mailboxSeq;
  }

  setLastMailboxSeq(seq: number): void {
    if (seq <= this.data.mailboxSeq) return;
    this.data.mailboxSeq = seq;
    this.save();
  }

  outbox(): OutboxItem[] {
    return this.data.outbox.map((o) => ({ ...o, payload: new Uint8Array(Buffer.from(o.payload, 'base64')) }));
  }

  putOutbox(item: OutboxItem): void {
    this.data.outbox = this.data.outbox.filter((o) => o.clientMsgId !== item.clientMsgId);
    this.data.outbox.push({ ...item, payload: Buffer.from(item.payload).toString('base64') });
    this.save();
  }

  removeOutbox(clientMsgId: string): void {
    const before = this.data.outbox.length;
    this.data.outbox = this.data.outbox.filter((o) => o.clientMsgId !== clientMsgId);
    if (this.data.outbox.length !== before) this.save();
  }
}
