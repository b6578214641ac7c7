import { MemoryMlsStore, type StoredMessage } from '@courier/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatHistory, inLogOrder } from './chat-history.ts';

const GROUP = 'grp_history';

/** A chat of `count` entries in the SDK's memory store (every seventh a roster line), read as the SDK reads it. */
async function chatOf(count: number, readUpTo = 0) {
  const store = new MemoryMlsStore();
  const messages: StoredMessage[] = Array.from({ length: count }, (_, i) => ({
    groupId: GROUP,
    seq: i + 1,
    clientMsgId: `m${i + 1}`,
    senderAccountId: i % 3 === 0 ? 'acc_me' : 'acc_other',
    senderDeviceId: i % 3 === 0 ? 'dev_me' : 'dev_other',
    sentAtMs: 1_000 + i,
    text: i % 7 === 6 ? '' : `text ${i + 1}`,
    outgoing: i % 3 === 0,
    ...(i % 7 === 6
      ? {
          roster: {
            action: 'added' as const,
            actorAccountId: 'acc_me',
            subjectAccountIds: ['acc_x'],
            role: '',
            title: '',
          },
        }
      : {}),
  }));
  await store.addMessages(messages);
  await store.advanceChatState(GROUP, { myReadUpTo: readUpTo });
  const history = new ChatHistory({
    history: (groupId, page) => store.history(groupId, page),
    unreadCount: (groupId) => store.unreadCount(groupId),
  });
  return { history, messages, store };
}

const ids = (list: StoredMessage[]) => list.map((m) => m.clientMsgId);

describe('ChatHistory: the web app reads a chat page by page', () => {
  it('pages walked from the newest give the whole chat, oldest first, each message once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1200 }),
        fc.integer({ min: 1, max: 700 }),
        async (count, size) => {
          const { history, messages } = await chatOf(count);
          const shown: StoredMessage[] = [];
          let before: number | undefined;
          let pages = 0;
          do {
            const run = await history.older(GROUP, before, size);
            expect(run.messages.length).toBeLessThanOrEqual(size);
            shown.unshift(...run.messages);
            before = run.before;
            pages += 1;
          } while (before !== undefined);
          expect(ids(shown)).toEqual(ids(messages));
          expect(pages).toBe(Math.max(1, Math.ceil(count / size)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a refresh down to a page cursor shows at least what the view had, up to the newest', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 900 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 60 }),
        async (count, pagesShown, added) => {
          const { history, messages, store } = await chatOf(count);
          // The view shows some pages of 50 ...
          const shown: StoredMessage[] = [];
          let before: number | undefined;
          for (let p = 0; p < pagesShown; p++) {
            const run = await history.older(GROUP, before, 50);
            shown.unshift(...run.messages);
            before = run.before;
            if (before === undefined) break;
          }
          // ... messages arrive, and it asks again down to its oldest page (0: it had the whole chat).
          const more = Array.from({ length: added }, (_, i) => ({
            ...messages[0]!,
            seq: count + i + 1,
            clientMsgId: `new${i}`,
            text: `new ${i}`,
          }));
          await store.addMessages(more);
          const again = await history.since(GROUP, before ?? 0, shown.length);
          const all = [...messages, ...more];
          expect(ids(again.messages)).toEqual(ids(all.slice(all.length - again.messages.length)));
          for (const id of ids(shown)) expect(ids(again.messages)).toContain(id);
          for (const m of more) expect(ids(again.messages)).toContain(m.clientMsgId);
          if (before === undefined) expect(again.before).toBeUndefined();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('the list glance: last text (not a roster line), activity time and unread count; newest position', async () => {
    const { history, messages } = await chatOf(20, 10);
    const glance = await history.glance(GROUP);
    const texts = messages.filter((m) => m.roster === undefined);
    expect(glance.lastText?.clientMsgId).toBe(texts.at(-1)!.clientMsgId);
    expect(glance.lastAtMs).toBe(messages.at(-1)!.sentAtMs);
    expect(glance.unread).toBe(messages.filter((m) => !m.outgoing && !m.roster && m.seq > 10).length);
    expect(await history.newestSeq(GROUP)).toBe(20);
    const newestTwo = await history.newest(GROUP, 2, (m) => m.outgoing);
    expect(ids(newestTwo)).toEqual(ids(messages.filter((m) => m.outgoing).slice(-2)));
    const empty = await chatOf(0);
    expect(await empty.history.glance(GROUP)).toEqual({ lastAtMs: 0, unread: 0 });
    expect(await empty.history.newestSeq(GROUP)).toBe(0);
  });

  it('a message that arrives while the chat list is being read is not hidden by the older read', async () => {
    const { store, messages } = await chatOf(5);
    // The store answers the first read only after the new message was kept and announced.
    let hold: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      hold = resolve;
    });
    let first = true;
    const history = new ChatHistory({
      history: async (groupId, page) => {
        const read = await store.history(groupId, page);
        if (first) {
          first = false;
          await held;
        }
        return read;
      },
      unreadCount: (groupId) => store.unreadCount(groupId),
    });
    const reading = history.glance(GROUP);
    const arrived: StoredMessage = {
      ...messages[0]!,
      seq: 6,
      clientMsgId: 'm6',
      text: 'new',
      outgoing: false,
    };
    await store.addMessages([arrived]);
    history.changed(GROUP);
    hold!();
    await reading;
    expect((await history.glance(GROUP)).lastText?.clientMsgId).toBe('m6');
  });

  it('shows a run in the order of the chat: by server position, texts still queued last, ties as written', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 40 }), (seqs) => {
        const run = seqs.map((seq, i) => ({ seq, clientMsgId: `m${i}` }) as StoredMessage);
        const shown = inLogOrder(run);
        expect(shown.map((m) => m.clientMsgId).sort()).toEqual(run.map((m) => m.clientMsgId).sort());
        const key = (m: StoredMessage) => m.seq || Number.MAX_SAFE_INTEGER;
        for (let i = 1; i < shown.length; i++) {
          expect(key(shown[i - 1]!)).toBeLessThanOrEqual(key(shown[i]!));
          if (key(shown[i - 1]!) === key(shown[i]!))
            expect(run.indexOf(shown[i - 1]!)).toBeLessThan(run.indexOf(shown[i]!));
        }
      }),
    );
  });
});
