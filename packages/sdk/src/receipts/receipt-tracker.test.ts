import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReceiptContent } from '../content/receipt-content.ts';
import { MemoryMlsStore } from '../mls/mls-store.ts';
import { ReceiptTracker, type ReceiptScope } from './receipt-tracker.ts';

const ME = 'acc-me';

function tracker(
  options: { readReceipts?: boolean; allowed?: (groupId: string) => boolean | ReceiptScope } = {},
) {
  const store = new MemoryMlsStore();
  const sent: { groupId: string; receipt: ReceiptContent }[] = [];
  const statuses: { groupId: string; status: string; upToSeq: number }[] = [];
  const unread: { groupId: string; count: number }[] = [];
  const synced: { groupId: string; upToSeq: number }[] = [];
  const scope = (groupId: string): ReceiptScope => {
    const allowed = options.allowed?.(groupId) ?? true;
    return allowed === true ? 'chat' : allowed === false ? 'none' : allowed;
  };
  const t = new ReceiptTracker({
    store,
    accountId: ME,
    send: async (groupId, receipt) => sent.push({ groupId, receipt }),
    allowed: async (groupId) => scope(groupId),
    syncOwn: async (groupId, upToSeq) => synced.push({ groupId, upToSeq }),
    events: {
      status: (e) => statuses.push(e),
      unread: (e) => unread.push(e),
      problem: (e) => {
        throw e;
      },
      wantsUnread: () => true,
    },
    readReceipts: options.readReceipts ?? true,
    // Batches are flushed by the test; a timer that fired would flush early (not wrong, only earlier).
    delayMs: 60_000,
  });
  void t.enableSending();
  return { t, store, sent, statuses, unread, synced };
}

const chat = fc.constantFrom('g1', 'g2');
const seq = fc.integer({ min: 1, max: 50 });
const op = fc.oneof(
  fc.record({ kind: fc.constant('received' as const), chat, from: fc.constantFrom(ME, 'acc-b'), seq }),
  fc.record({ kind: fc.constant('markRead' as const), chat, seq }),
);

describe('receipt tracker', () => {
  it('sends one receipt per chat per batch: read up to the furthest read when it covers the deliveries, else delivered (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), fc.boolean(), async (ops, readReceipts) => {
        const { t, sent } = tracker({ readReceipts });
        const delivered = new Map<string, number>();
        const read = new Map<string, number>();
        let myRead = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'received') {
            await t.received(o.chat, o.from, o.seq);
            if (o.from !== ME) delivered.set(o.chat, Math.max(delivered.get(o.chat) ?? 0, o.seq));
          } else {
            await t.markRead(o.chat, o.seq);
            // Only a read past the read position is news.
            if (o.seq > (myRead.get(o.chat) ?? 0)) {
              myRead = new Map(myRead).set(o.chat, o.seq);
              if (readReceipts) read.set(o.chat, Math.max(read.get(o.chat) ?? 0, o.seq));
            }
          }
        }
        await t.flush();
        const expected = new Map<string, { status: string; upToSeq: number }>();
        for (const groupId of ['g1', 'g2']) {
          const d = delivered.get(groupId);
          const r = read.get(groupId);
          if (r !== undefined && r >= (d ?? 0)) expected.set(groupId, { status: 'read', upToSeq: r });
          else if (d !== undefined) expected.set(groupId, { status: 'delivered', upToSeq: d });
        }
        expect(
          new Map(sent.map((s) => [s.groupId, { status: s.receipt.status, upToSeq: s.receipt.upToSeq }])),
        ).toEqual(expected);
        expect(sent.length).toBe(expected.size);
        // A second flush has nothing left to send.
        await t.flush();
        expect(sent.length).toBe(expected.size);
      }),
    );
  });

  it('never answers a receipt, moves positions only forward, and reports a move once (property)', async () => {
    const receipt = fc.record({
      chat,
      from: fc.constantFrom(ME, 'acc-b', 'acc-c'),
      status: fc.constantFrom('delivered' as const, 'read' as const),
      seq,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(receipt, { maxLength: 25 }), fc.boolean(), async (receipts, readReceipts) => {
        const { t, store, sent, statuses } = tracker({ readReceipts });
        const model = new Map<string, { deliveredUpTo: number; readUpTo: number; myReadUpTo: number }>();
        let moves = 0;
        for (const r of receipts) {
          await t.apply(r.chat, r.from, {
            v: 1,
            type: 'receipt',
            status: r.status,
            upToSeq: r.seq,
            sentAtMs: 0,
          });
          const was = model.get(r.chat) ?? { deliveredUpTo: 0, readUpTo: 0, myReadUpTo: 0 };
          const next = { ...was };
          if (r.from === ME) {
            if (r.status === 'read') next.myReadUpTo = Math.max(was.myReadUpTo, r.seq);
          } else if (r.status === 'read' && readReceipts) {
            next.readUpTo = Math.max(was.readUpTo, r.seq);
            next.deliveredUpTo = Math.max(was.deliveredUpTo, r.seq);
            if (next.readUpTo > was.readUpTo) moves++;
          } else {
            next.deliveredUpTo = Math.max(was.deliveredUpTo, r.seq);
            if (next.deliveredUpTo > was.deliveredUpTo) moves++;
          }
          model.set(r.chat, next);
        }
        await t.flush();
        expect(sent).toEqual([]);
        expect(statuses).toHaveLength(moves);
        if (!readReceipts) expect(statuses.every((s) => s.status === 'delivered')).toBe(true);
        for (const groupId of ['g1', 'g2'])
          expect(await store.chatState(groupId)).toEqual(
            model.get(groupId) ?? { deliveredUpTo: 0, readUpTo: 0, myReadUpTo: 0 },
          );
      }),
    );
  });

  it('a read on another of the person’s devices clears the unread count here', async () => {
    const { t, store, unread } = tracker();
    await store.addMessages(
      [1, 2, 3].map((n) => ({
        groupId: 'g1',
        seq: n,
        clientMsgId: `c${n}`,
        senderAccountId: 'acc-b',
        senderDeviceId: 'dev-b',
        sentAtMs: n,
        text: `m${n}`,
        outgoing: false,
      })),
    );
    await t.received('g1', 'acc-b', 2);
    await t.received('g1', 'acc-b', 3);
    expect(unread).toEqual([]);
    await t.flush();
    expect(unread).toEqual([{ groupId: 'g1', count: 3, myReadUpTo: 0 }]);
    await t.apply('g1', ME, { v: 1, type: 'receipt', status: 'read', upToSeq: 2, sentAtMs: 0 });
    expect(unread.at(-1)).toEqual({ groupId: 'g1', count: 1, myReadUpTo: 2 });
    await t.apply('g1', ME, { v: 1, type: 'receipt', status: 'read', upToSeq: 3, sentAtMs: 0 });
    expect(unread.at(-1)).toEqual({ groupId: 'g1', count: 0, myReadUpTo: 3 });
  });

  it('in a chat over the device limit: no receipt goes into the chat, the read position goes to the own devices only (also with read receipts off)', async () => {
    for (const readReceipts of [true, false]) {
      const { t, sent, synced } = tracker({
        readReceipts,
        allowed: (groupId) => (groupId === 'crowd' ? 'own_devices' : 'chat'),
      });
      await t.received('crowd', 'acc-b', 3);
      await t.received('crowd', 'acc-b', 5);
      await t.flush();
      // Delivered says nothing to the person's own devices: nothing at all goes out.
      expect([sent, synced]).toEqual([[], []]);
      await t.markRead('crowd', 4);
      await t.markRead('crowd', 5);
      await t.received('g1', 'acc-b', 2);
      await t.flush();
      expect(synced).toEqual([{ groupId: 'crowd', upToSeq: 5 }]);
      expect(sent.map((s) => s.groupId)).toEqual(['g1']);
      // A read position from the person's own device applies as a read here.
      await t.received('crowd', 'acc-b', 9);
      await t.applyOwnRead('crowd', 9);
      await t.flush();
      expect(synced).toEqual([{ groupId: 'crowd', upToSeq: 5 }]);
    }
  });

  it('sends nothing in a chat that allows no receipts, nothing before sending is enabled, and refuses bad positions', async () => {
    const { t, sent } = tracker({ allowed: (groupId) => groupId !== 'request' });
    await t.received('request', 'acc-b', 4);
    await t.markRead('request', 4);
    await t.received('g1', 'acc-b', 2);
    await t.flush();
    expect(sent.map((s) => s.groupId)).toEqual(['g1']);
    await expect(t.markRead('g1', 0)).rejects.toMatchObject({ code: 'REQ_INVALID' });

    const store = new MemoryMlsStore();
    const early: ReceiptContent[] = [];
    const later = new ReceiptTracker({
      store,
      accountId: ME,
      send: async (_g, r) => early.push(r),
      allowed: async () => 'chat' as const,
      syncOwn: async () => {},
      events: { status: () => {}, unread: () => {}, problem: () => {}, wantsUnread: () => false },
      readReceipts: true,
      delayMs: 60_000,
    });
    await later.received('g1', 'acc-b', 5);
    await later.flush();
    expect(early).toEqual([]);
    await later.enableSending();
    expect(early.map((r) => [r.status, r.upToSeq])).toEqual([['delivered', 5]]);
  });
});
