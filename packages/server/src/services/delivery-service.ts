import { CourierError } from '@courier/protocol';
import type { Logger } from 'pino';
import type { Bus } from '../bus/ports.ts';
import type { Clock } from '../deps.ts';
import { startOfDay } from '../privacy/start-of-day.ts';
import type {
  ClientKey,
  ConnectionRecord,
  EntryRow,
  MailboxRow,
  StoredSend,
  Stores,
  Storage,
} from '../storage/ports.ts';

export interface Sender {
  accountId: string;
  deviceId: string;
}

export interface Appended {
  seq: number;
  duplicate: boolean;
}

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

interface GroupAppend extends Pending<Appended> {
  sender: Sender;
  groupId: string;
  clientMsgId: string;
  payload: Uint8Array;
}

interface DeviceAppend extends Pending<Appended> {
  sender: Sender;
  deviceId: string;
  clientMsgId: string;
  payload: Uint8Array;
}

interface Batch {
  groupAppends: GroupAppend[];
  deviceAppends: DeviceAppend[];
  cursors: Map<string, { deviceId: string; groupId: string; ackedSeq: number }>;
  mailboxAcks: Map<string, number>;
  connections: ConnectionRecord[];
  accountsSeen: Set<string>;
  devicesSeen: Set<string>;
  sessionsUsed: Set<string>;
}

/** Most cursor rows one lazy transaction writes: a big group's acknowledgements go in slices. */
const LAZY_ROWS = 1000;

const emptyBatch = (): Batch => ({
  groupAppends: [],
  deviceAppends: [],
  cursors: new Map(),
  mailboxAcks: new Map(),
  connections: [],
  accountsSeen: new Set(),
  devicesSeen: new Set(),
  sessionsUsed: new Set(),
});

export interface DeliveryListener {
  /** Called after commit with the new entries, in sequence order per group. */
  onEntriesCommitted(rows: readonly EntryRow[]): void;
  onMailboxCommitted(rows: readonly MailboxRow[]): void;
}

/**
 * Group commit: every append that arrives in one event-loop turn (messages, mailbox items) is
 * committed in one transaction, and only then is a message "accepted"; acknowledgements and
 * connection records commit lazily, in transactions of their own.
 * Sequence numbers are allocated inside the transaction, so a retry with the same client message
 * id finds the stored entry and gets the same answer.
 */
export class DeliveryService {
  private batch = emptyBatch();
  private scheduled = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  /** The lazy writes waited long enough: they commit once no append is waiting. */
  private lazyDue = false;
  private appendFlushesSinceLazy = 0;
  private flushing: Promise<void> | undefined;
  private listener: DeliveryListener | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly lazyFlushMs = 250,
    /** False when IP retention is 0: connection records are then never written. */
    private readonly recordIps = true,
    /** Most payload bytes waiting in one device's mailbox that send_to_device may add to. */
    private readonly mailboxBytesPerDevice = Number.POSITIVE_INFINITY,
  ) {}

  setListener(listener: DeliveryListener): void {
    this.listener = listener;
  }

  appendToGroup(
    sender: Sender,
    groupId: string,
    clientMsgId: string,
    payload: Uint8Array,
  ): Promise<Appended> {
    return new Promise((resolve, reject) => {
      this.batch.groupAppends.push({ sender, groupId, clientMsgId, payload, resolve, reject });
      this.schedule();
    });
  }

  appendToDevice(
    sender: Sender,
    deviceId: string,
    clientMsgId: string,
    payload: Uint8Array,
  ): Promise<Appended> {
    return new Promise((resolve, reject) => {
      this.batch.deviceAppends.push({ sender, deviceId, clientMsgId, payload, resolve, reject });
      this.schedule();
    });
  }

  ack(deviceId: string, groupId: string, seq: number): void {
    const key = `${deviceId} ${groupId}`;
    const current = this.batch.cursors.get(key);
    if (!current || current.ackedSeq < seq) this.batch.cursors.set(key, { deviceId, groupId, ackedSeq: seq });
    this.scheduleLazily();
  }

  ackMailbox(deviceId: string, seq: number): void {
    this.batch.mailboxAcks.set(deviceId, Math.max(seq, this.batch.mailboxAcks.get(deviceId) ?? 0));
    this.scheduleLazily();
  }

  connected(record: ConnectionRecord, tokenHash: string): void {
    if (this.recordIps) this.batch.connections.push(record);
    this.batch.accountsSeen.add(record.accountId);
    this.batch.devicesSeen.add(record.deviceId);
    this.batch.sessionsUsed.add(tokenHash);
    this.scheduleLazily();
  }

  /** Resolves when everything submitted so far is committed (or failed). */
  async drain(): Promise<void> {
    if (!isEmpty(this.batch)) {
      this.lazyDue = true;
      this.schedule();
    }
    while (this.flushing || this.scheduled) {
      if (this.flushing) await this.flushing;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * Acknowledgements and connection records are not worth a transaction each: they wait up to
   * `lazyFlushMs`, then commit in transactions of their own (at most LAZY_ROWS cursors each), after
   * any waiting appends. Losing them in a crash only means a device is sent again what it already
   * has, and drops it. They never ride along with messages: a big group's acknowledgements are
   * thousands of rows, which would delay every message's acceptance and fan-out.
   */
  private scheduleLazily(): void {
    if (this.lazyTimer || this.lazyDue) return;
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = undefined;
      this.lazyDue = true;
      this.schedule();
    }, this.lazyFlushMs);
    this.lazyTimer.unref();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.flushNext().finally(() => {
        this.flushing = undefined;
        if (hasAppends(this.batch) || (this.lazyDue && !isLazyEmpty(this.batch))) this.schedule();
        else if (!isLazyEmpty(this.batch)) this.scheduleLazily();
      });
    });
  }

  /**
   * One transaction: the waiting appends, or (when due) lazy writes. Under a steady stream of
   * appends the two take turns, so neither waits without end.
   */
  private async flushNext(): Promise<void> {
    const lazyTurn = this.lazyDue && (!hasAppends(this.batch) || this.appendFlushesSinceLazy > 0);
    if (!lazyTurn && hasAppends(this.batch)) {
      const { groupAppends, deviceAppends } = this.batch;
      this.batch.groupAppends = [];
      this.batch.deviceAppends = [];
      this.appendFlushesSinceLazy += 1;
      await this.flushAppends({ ...emptyBatch(), groupAppends, deviceAppends });
    } else if (lazyTurn) {
      this.appendFlushesSinceLazy = 0;
      const lazy = this.takeLazy();
      if (isLazyEmpty(this.batch)) this.lazyDue = false;
      if (!isLazyEmpty(lazy)) await this.commitLazy(lazy);
    }
  }

  /** The lazy part of the batch, at most LAZY_ROWS cursors (the rest waits for the next turn). */
  private takeLazy(): Batch {
    const batch = this.batch;
    if (batch.cursors.size <= LAZY_ROWS) {
      this.batch = { ...emptyBatch(), groupAppends: batch.groupAppends, deviceAppends: batch.deviceAppends };
      return { ...batch, groupAppends: [], deviceAppends: [] };
    }
    const taken = emptyBatch();
    for (const [key, update] of batch.cursors) {
      if (taken.cursors.size === LAZY_ROWS) break;
      taken.cursors.set(key, update);
      batch.cursors.delete(key);
    }
    return taken;
  }

  private async commitLazy(batch: Batch): Promise<void> {
    try {
      await this.commit(batch);
    } catch (error) {
      // Nothing waits for these: they are logged, and the next acknowledgement carries them again.
      this.logger.error({ err: error }, 'acknowledgement batch failed');
    }
  }

  private async flushAppends(batch: Batch): Promise<void> {
    try {
      await this.commit(batch);
    } catch (error) {
      const appends = batch.groupAppends.length + batch.deviceAppends.length;
      this.logger.error({ err: error, appends }, 'delivery batch failed');
      if (appends <= 1) {
        for (const item of [...batch.groupAppends, ...batch.deviceAppends]) item.reject(error);
        return;
      }
      // One bad item must not fail the others: commit each on its own.
      for (const item of batch.groupAppends)
        await this.commitAlone({ ...emptyBatch(), groupAppends: [item] });
      for (const item of batch.deviceAppends)
        await this.commitAlone({ ...emptyBatch(), deviceAppends: [item] });
    }
  }

  private async commitAlone(batch: Batch): Promise<void> {
    try {
      await this.commit(batch);
    } catch (error) {
      for (const item of [...batch.groupAppends, ...batch.deviceAppends]) item.reject(error);
    }
  }

  private async commit(batch: Batch): Promise<void> {
    const now = this.clock.now();
    const settle: (() => void)[] = [];
    const { entries, mailbox } = await (this.storage.appendGroupMessages && isGroupAppendsOnly(batch)
      ? { entries: await this.appendGroupMessages(batch.groupAppends, now, settle), mailbox: [] }
      : this.commitInTransaction(batch, now, settle));
    for (const done of settle) done();
    if (entries.length > 0) {
      this.listener?.onEntriesCommitted(entries);
      const top = new Map<string, number>();
      for (const e of entries) top.set(e.groupId, Math.max(e.seq, top.get(e.groupId) ?? 0));
      await this.bus.publish({ type: 'groups_appended', groups: [...top] });
    }
    if (mailbox.length > 0) {
      this.listener?.onMailboxCommitted(mailbox);
      const top = new Map<string, number>();
      for (const m of mailbox) top.set(m.deviceId, Math.max(m.seq, top.get(m.deviceId) ?? 0));
      await this.bus.publish({ type: 'mailboxes_appended', devices: [...top] });
    }
  }

  private commitInTransaction(
    batch: Batch,
    now: number,
    settle: (() => void)[],
  ): Promise<{ entries: EntryRow[]; mailbox: MailboxRow[] }> {
    return this.storage.transaction(async (tx) => {
      if (batch.cursors.size > 0) await tx.cursors.advance([...batch.cursors.values()]);
      for (const [deviceId, seq] of batch.mailboxAcks) await tx.mailbox.deleteUpTo(deviceId, seq);
      if (batch.devicesSeen.size > 0) {
        await tx.connections.record(batch.connections);
        await tx.accounts.touchLastSeenDay([...batch.accountsSeen], startOfDay(now));
        await tx.devices.touchLastSeen([...batch.devicesSeen], now);
        await tx.sessions.touch([...batch.sessionsUsed], now);
      }
      const entries = await this.commitGroupAppends(tx, batch.groupAppends, now, settle);
      const mailbox = await this.commitDeviceAppends(tx, batch.deviceAppends, now, settle);
      return { entries, mailbox };
    });
  }

  /**
   * Group appends alone, through the storage's one-step append (PostgreSQL: one statement, one round
   * trip): the same answers as `commitGroupAppends` in a transaction. The same send twice in the batch
   * is stored once and both are answered.
   */
  private async appendGroupMessages(
    items: readonly GroupAppend[],
    now: number,
    settle: (() => void)[],
  ): Promise<EntryRow[]> {
    const byKey = new Map<string, GroupAppend[]>();
    for (const item of items) {
      const key = `${item.sender.deviceId} ${item.clientMsgId} ${item.groupId}`;
      const same = byKey.get(key);
      if (same) same.push(item);
      else byKey.set(key, [item]);
    }
    const firsts = [...byKey.values()].map((same) => same[0]!);
    const outcomes = await this.storage.appendGroupMessages!(
      firsts.map((item) => ({
        groupId: item.groupId,
        senderAccountId: item.sender.accountId,
        senderDeviceId: item.sender.deviceId,
        clientMsgId: item.clientMsgId,
        payload: item.payload,
      })),
      now,
    );
    const rows: EntryRow[] = [];
    [...byKey.values()].forEach((same, i) => {
      const outcome = outcomes[i]!;
      const first = same[0]!;
      if (outcome.kind === 'stored')
        rows.push({
          groupId: first.groupId,
          seq: outcome.seq,
          kind: 'message',
          senderAccountId: first.sender.accountId,
          senderDeviceId: first.sender.deviceId,
          clientMsgId: first.clientMsgId,
          payload: first.payload,
          createdAt: now,
        });
      same.forEach((item, k) => {
        if (outcome.kind === 'not_member')
          settle.push(() => item.reject(new CourierError('GROUP_NOT_MEMBER')));
        else if (outcome.kind === 'group_not_found')
          settle.push(() => item.reject(new CourierError('GROUP_NOT_FOUND')));
        else
          settle.push(() =>
            item.resolve({ seq: outcome.seq, duplicate: outcome.kind === 'duplicate' || k > 0 }),
          );
      });
    });
    // In sequence order per group, as the listener expects: a group's appends take its next numbers in input order.
    return rows;
  }

  private async commitGroupAppends(
    tx: Stores,
    items: readonly GroupAppend[],
    now: number,
    settle: (() => void)[],
  ): Promise<EntryRow[]> {
    if (items.length === 0) return [];
    // Lock the groups first: a removal committing meanwhile must be seen by the membership check.
    await tx.groups.lockGroups([...new Set(items.map((i) => i.groupId))]);
    const stored = await storedByKey(tx.entries.storedSends(items.map(clientKey)));
    const members = new Set(
      (
        await tx.groups.memberPairs(items.map((i) => ({ groupId: i.groupId, accountId: i.sender.accountId })))
      ).map((p) => `${p.groupId} ${p.accountId}`),
    );
    const fresh = new Map<string, GroupAppend[]>();
    const firstOfKey = new Map<string, GroupAppend>();
    for (const item of items) {
      const key = `${item.sender.deviceId} ${item.clientMsgId} ${item.groupId}`;
      const existing = stored.get(key);
      const first = firstOfKey.get(key);
      if (existing) {
        settle.push(() => item.resolve({ seq: existing.seq, duplicate: true }));
      } else if (!members.has(`${item.groupId} ${item.sender.accountId}`)) {
        settle.push(() => item.reject(new CourierError('GROUP_NOT_MEMBER')));
      } else if (first) {
        // The same send twice in one batch: store it once, answer both.
        first.resolve = chain(first.resolve, (a) => item.resolve({ seq: a.seq, duplicate: true }));
      } else {
        firstOfKey.set(key, item);
        const list = fresh.get(item.groupId) ?? [];
        list.push(item);
        fresh.set(item.groupId, list);
      }
    }
    const rows: EntryRow[] = [];
    const lasts = await tx.groups.allocateSeqs(
      new Map([...fresh].map(([groupId, list]) => [groupId, list.length])),
    );
    for (const [groupId, list] of fresh) {
      const last = lasts.get(groupId);
      if (last === undefined) {
        for (const item of list) settle.push(() => item.reject(new CourierError('GROUP_NOT_FOUND')));
        continue;
      }
      list.forEach((item, i) => {
        const seq = last - list.length + 1 + i;
        rows.push({
          groupId,
          seq,
          kind: 'message',
          senderAccountId: item.sender.accountId,
          senderDeviceId: item.sender.deviceId,
          clientMsgId: item.clientMsgId,
          payload: item.payload,
          createdAt: now,
        });
        settle.push(() => item.resolve({ seq, duplicate: false }));
      });
    }
    await tx.entries.insert(rows);
    return rows;
  }

  private async commitDeviceAppends(
    tx: Stores,
    items: readonly DeviceAppend[],
    now: number,
    settle: (() => void)[],
  ): Promise<MailboxRow[]> {
    if (items.length === 0) return [];
    const stored = await storedByKey(tx.mailbox.storedSends(items.map(clientKey)));
    const rows: MailboxRow[] = [];
    const pending = new Map<string, number>();
    for (const item of items) {
      const key = `${item.sender.deviceId} ${item.clientMsgId} ${item.deviceId}`;
      const existing = stored.get(key);
      if (existing) {
        settle.push(() => item.resolve({ seq: existing.seq, duplicate: true }));
        continue;
      }
      const device = await tx.devices.byId(item.deviceId);
      if (!device) {
        settle.push(() => item.reject(new CourierError('DEVICE_NOT_FOUND')));
        continue;
      }
      // A mailbox takes items from its own account and from people it shares a chat with: nobody
      // else has a reason to write to it (a Welcome follows a roster add), so a stranger cannot
      // fill it or spam it (docs/protocol.md, "Device mailboxes").
      if (
        device.accountId !== item.sender.accountId &&
        !(await tx.groups.shareChat(item.sender.accountId, device.accountId))
      ) {
        settle.push(() => item.reject(new CourierError('MSG_NOT_A_CONTACT')));
        continue;
      }
      // Someone the device's account blocked gets the reply of a stored item, and nothing is stored.
      if (
        device.accountId !== item.sender.accountId &&
        (await tx.blocks.isBlocked(device.accountId, item.sender.accountId))
      ) {
        const seq = await tx.devices.allocateMailboxSeq(item.deviceId, 1);
        settle.push(() => item.resolve({ seq, duplicate: false }));
        continue;
      }
      // Bounded in bytes: a device that does not fetch cannot be made to store without end.
      const waiting = pending.get(item.deviceId) ?? (await tx.mailbox.pendingBytes(item.deviceId));
      if (waiting + item.payload.byteLength > this.mailboxBytesPerDevice) {
        settle.push(() => item.reject(new CourierError('MSG_MAILBOX_FULL')));
        continue;
      }
      pending.set(item.deviceId, waiting + item.payload.byteLength);
      const seq = await tx.devices.allocateMailboxSeq(item.deviceId, 1);
      const row = {
        deviceId: item.deviceId,
        seq,
        kind: 'device' as const,
        senderAccountId: item.sender.accountId,
        senderDeviceId: item.sender.deviceId,
        clientMsgId: item.clientMsgId,
        payload: item.payload,
        createdAt: now,
      };
      rows.push(row);
      stored.set(key, {
        senderDeviceId: row.senderDeviceId,
        clientMsgId: row.clientMsgId,
        target: row.deviceId,
        seq,
      });
      settle.push(() => item.resolve({ seq, duplicate: false }));
    }
    await tx.mailbox.insert(rows);
    return rows;
  }
}

const clientKey = (item: { sender: Sender; clientMsgId: string }): ClientKey => ({
  senderDeviceId: item.sender.deviceId,
  clientMsgId: item.clientMsgId,
});

async function storedByKey(found: Promise<StoredSend[]>): Promise<Map<string, StoredSend>> {
  return new Map((await found).map((s) => [`${s.senderDeviceId} ${s.clientMsgId} ${s.target}`, s]));
}

/** Appends to group logs and nothing else (no mailbox item, nothing lazy). */
function isGroupAppendsOnly(b: Batch): boolean {
  return b.groupAppends.length > 0 && b.deviceAppends.length === 0 && isLazyEmpty(b);
}

function hasAppends(b: Batch): boolean {
  return b.groupAppends.length > 0 || b.deviceAppends.length > 0;
}

/** Nothing lazy waits: no acknowledgement, no connection record. */
function isLazyEmpty(b: Batch): boolean {
  return b.cursors.size === 0 && b.mailboxAcks.size === 0 && b.devicesSeen.size === 0;
}

function isEmpty(b: Batch): boolean {
  return !hasAppends(b) && isLazyEmpty(b);
}

function chain<T>(first: (v: T) => void, then: (v: T) => void): (v: T) => void {
  return (v) => {
    first(v);
    then(v);
  };
}
