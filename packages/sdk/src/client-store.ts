/** A message accepted locally but not yet acknowledged by the server as durable. */
export interface OutboxItem {
  kind: 'group' | 'device';
  /** Group id or device id. */
  target: string;
  clientMsgId: string;
  payload: Uint8Array;
}

/**
 * What a client keeps between runs: the highest entry it has processed per group (so nothing is
 * shown twice after a reconnect), the highest mailbox item, and its outbox (so nothing is lost).
 */
export interface ClientStore {
  lastSeq(groupId: string): number;
  setLastSeq(groupId: string, seq: number): void;
  lastMailboxSeq(): number;
  setLastMailboxSeq(seq: number): void;
  outbox(): OutboxItem[];
  putOutbox(item: OutboxItem): void;
  removeOutbox(clientMsgId: string): void;
}

export class MemoryClientStore implements ClientStore {
  protected seqs = new Map<string, number>();
  protected mailboxSeq = 0;
  protected pending = new Map<string, OutboxItem>();

  lastSeq(groupId: string): number {
    return this.seqs.get(groupId) ?? 0;
  }

  setLastSeq(groupId: string, seq: number): void {
    if (seq > this.lastSeq(groupId)) this.seqs.set(groupId, seq);
  }

  lastMailboxSeq(): number {
    return this.mailboxSeq;
  }

  setLastMailboxSeq(seq: number): void {
    this.mailboxSeq = Math.max(this.mailboxSeq, seq);
  }

  outbox(): OutboxItem[] {
    return [...this.pending.values()];
  }

  putOutbox(item: OutboxItem): void {
    this.pending.set(item.clientMsgId, item);
  }

  removeOutbox(clientMsgId: string): void {
    this.pending.delete(clientMsgId);
  }
}
