import { CourierError } from '@courier/protocol';
import type { ReceiptContent, ReceiptStatus } from '../content/receipt-content.ts';
import type { MlsStore } from '../mls/mls-store.ts';

/** What the tracker reports (SecureClient passes these on as its own events). */
export interface ReceiptTrackerEvents {
  status(event: {
    groupId: string;
    status: 'delivered' | 'read';
    upToSeq: number;
    byAccountId: string;
  }): void;
  unread(event: { groupId: string; count: number; myReadUpTo: number }): void;
  problem(error: CourierError): void;
  /** Whether anything listens to unread changes (counting is skipped otherwise). */
  wantsUnread(): boolean;
}

export interface ReceiptTrackerOptions {
  store: MlsStore;
  accountId: string;
  /** Encrypts and queues a receipt in the chat (not kept in the history). */
  send(groupId: string, receipt: ReceiptContent): Promise<unknown>;
  /**
   * Where this device's receipts in the chat go now: into the chat; to the person's own other devices
   * only (a read position, in a chat with more devices than receipts are sent in); or nowhere (a
   * message request, a chat not joined).
   */
  allowed(groupId: string): Promise<ReceiptScope>;
  /** Sends the person's read position to their own other devices only (scope `own_devices`). */
  syncOwn(groupId: string, upToSeq: number): Promise<unknown>;
  events: ReceiptTrackerEvents;
  readReceipts: boolean;
  delayMs: number;
}

/** Where a chat's receipts go (see `ReceiptTrackerOptions.allowed`). */
export type ReceiptScope = 'chat' | 'own_devices' | 'none';

/**
 * Delivery and read receipts of one device: gathers what it owes per chat (one receipt covers every
 * message up to a position, so a batch sends one per chat), applies receipts it gets to the chat's
 * positions in the store (other people's: the status of this person's sent messages; the person's
 * own other devices': the read position and unread count), and never answers a receipt.
 */
export class ReceiptTracker {
  /** Per chat: receipts owed, and the person's read position for their own devices (`own`). */
  private readonly owed = new Map<string, { delivered?: number; read?: number; own?: number }>();
  /** Chats whose unread count grew since the last batch (reported once per batch, not per message). */
  private readonly unreadChanged = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending = false;
  private readReceiptsOn: boolean;

  constructor(private readonly options: ReceiptTrackerOptions) {
    this.readReceiptsOn = options.readReceipts;
  }

  get readReceipts(): boolean {
    return this.readReceiptsOn;
  }

  /** Off: no read receipt goes out (also none already gathered), and others' reads count as delivered. */
  setReadReceipts(on: boolean): void {
    this.readReceiptsOn = on;
    if (!on) for (const owed of this.owed.values()) delete owed.read;
  }

  /** From now on gathered receipts go out (before, there are no keys to encrypt them with). */
  enableSending(): Promise<void> {
    this.sending = true;
    return this.owed.size > 0 ? this.flush() : Promise.resolve();
  }

  /**
   * A shown message from someone arrived: a delivery receipt is owed (none for the person's own),
   * and the chat's unread count is reported with the batch (a backlog of thousands counts once).
   */
  async received(groupId: string, senderAccountId: string, seq: number): Promise<void> {
    if (senderAccountId === this.options.accountId) return;
    if (this.options.events.wantsUnread()) this.unreadChanged.add(groupId);
    this.owe(groupId, 'delivered', seq);
  }

  /** The person read the chat up to a position on this device. */
  async markRead(groupId: string, upToSeq: number): Promise<void> {
    if (!Number.isSafeInteger(upToSeq) || upToSeq < 1)
      throw new CourierError('REQ_INVALID', { message: 'markRead takes a position of 1 or more.' });
    if (!(await this.readUpTo(groupId, upToSeq))) return;
    // The person's own devices hear of it in any case: in a chat without receipts by themselves.
    this.owe(groupId, 'own', upToSeq);
    if (this.readReceiptsOn) this.owe(groupId, 'read', upToSeq);
  }

  /** The person's read position from one of their own other devices (a chat without receipts). */
  async applyOwnRead(groupId: string, upToSeq: number): Promise<void> {
    await this.readUpTo(groupId, upToSeq);
  }

  /** A receipt from another device of the chat. */
  async apply(groupId: string, senderAccountId: string, receipt: ReceiptContent): Promise<void> {
    const { store } = this.options;
    if (senderAccountId === this.options.accountId) {
      // The person's other device: a read there is a read here. Their deliveries say nothing new.
      if (receipt.status === 'read') await this.readUpTo(groupId, receipt.upToSeq);
      return;
    }
    // With read receipts off, another person's read counts as delivered only.
    const status: ReceiptStatus = receipt.status === 'read' && this.readReceiptsOn ? 'read' : 'delivered';
    const before = await store.chatState(groupId);
    const after = await store.advanceChatState(
      groupId,
      status === 'read' ? { readUpTo: receipt.upToSeq } : { deliveredUpTo: receipt.upToSeq },
    );
    const moved =
      status === 'read' ? after.readUpTo > before.readUpTo : after.deliveredUpTo > before.deliveredUpTo;
    if (moved)
      this.options.events.status({ groupId, status, upToSeq: receipt.upToSeq, byAccountId: senderAccountId });
  }

  /** Sends what is gathered now: per chat one read receipt (read implies delivered), or one delivery receipt. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const changed = [...this.unreadChanged];
    this.unreadChanged.clear();
    for (const groupId of changed)
      await this.reportUnread(groupId).catch((error: unknown) =>
        this.options.events.problem(
          error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error }),
        ),
      );
    if (!this.sending) return;
    const batch = [...this.owed.entries()];
    this.owed.clear();
    for (const [groupId, owed] of batch) {
      const status: ReceiptStatus =
        owed.read !== undefined && owed.read >= (owed.delivered ?? 0) ? 'read' : 'delivered';
      const upToSeq = status === 'read' ? owed.read! : owed.delivered!;
      try {
        const scope = await this.options.allowed(groupId);
        // The person's other devices learn the read from a read receipt in the chat; where none goes
        // (a crowd, or read receipts turned off), from their mailboxes only.
        const ownBySync = scope === 'own_devices' || (scope === 'chat' && status !== 'read');
        if (ownBySync && owed.own !== undefined) await this.options.syncOwn(groupId, owed.own);
        if (scope !== 'chat' || (owed.read === undefined && owed.delivered === undefined)) continue;
        await this.options.send(groupId, { v: 1, type: 'receipt', status, upToSeq, sentAtMs: Date.now() });
      } catch (error) {
        // Left or removed since, or stopped: nobody to tell now. Anything else is worth a look.
        if (
          error instanceof CourierError &&
          ['MLS_NOT_MEMBER', 'MLS_GROUP_NOT_READY', 'SERVER_UNAVAILABLE'].includes(error.code)
        )
          continue;
        this.options.events.problem(
          error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error }),
        );
      }
    }
  }

  /** Stops the batch timer (what is gathered stays, for a flush). */
  pause(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private owe(groupId: string, status: ReceiptStatus | 'own', upToSeq: number): void {
    const owed = this.owed.get(groupId) ?? {};
    owed[status] = Math.max(owed[status] ?? 0, upToSeq);
    this.owed.set(groupId, owed);
    if (this.timer === undefined) this.timer = setTimeout(() => void this.flush(), this.options.delayMs);
  }

  /** Moves the person's read position on; false when it was there already. */
  private async readUpTo(groupId: string, upToSeq: number): Promise<boolean> {
    const before = await this.options.store.chatState(groupId);
    if (upToSeq <= before.myReadUpTo) return false;
    await this.options.store.advanceChatState(groupId, { myReadUpTo: upToSeq });
    await this.reportUnread(groupId);
    return true;
  }

  private async reportUnread(groupId: string): Promise<void> {
    const { store } = this.options;
    const [count, state] = await Promise.all([store.unreadCount(groupId), store.chatState(groupId)]);
    this.options.events.unread({ groupId, count, myReadUpTo: state.myReadUpTo });
  }
}
