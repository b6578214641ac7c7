import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { groupStateChange, joinGroupState } from '@courier/mls';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexedDbMlsStore } from '../mls/indexeddb-store.ts';
import type { StoredMessage } from '../mls/mls-store.ts';
import { describeMlsStoreContract } from './mls-store-contract.ts';

// IndexedDB in Node through fake-indexeddb; the browser scenario (test/browser-e2e.test.ts) runs the
// same store in Chromium.
describeMlsStoreContract('IndexedDB (fake-indexeddb)', async () => {
  const factory = new IDBFactory();
  const store = await IndexedDbMlsStore.open('device', factory);
  return { store, close: () => store.close() };
});

describe('IndexedDB store upgrade', () => {
  it('opens a version-1 database: its messages get an order and page like new ones', async () => {
    const factory = new IDBFactory();
    const old = factory.open('device', 1);
    old.onupgradeneeded = () => {
      for (const name of [
        'meta',
        'seqs',
        'outbox',
        'keyPackages',
        'groups',
        'stash',
        'messages',
        'knownKeys',
      ])
        old.result.createObjectStore(name);
      const messages = old.transaction!.objectStore('messages');
      for (const seq of [1, 2, 3]) {
        const m: StoredMessage = {
          groupId: 'g',
          seq,
          clientMsgId: `c${seq}`,
          senderAccountId: 'a',
          senderDeviceId: 'd',
          sentAtMs: seq,
          text: `old ${seq}`,
          outgoing: false,
        };
        messages.put(m, [m.groupId, m.senderDeviceId, m.clientMsgId]);
      }
    };
    await new Promise<void>((resolve, reject) => {
      old.onsuccess = () => {
        old.result.close();
        resolve();
      };
      old.onerror = () => reject(old.error);
    });
    const store = await IndexedDbMlsStore.open('device', factory);
    try {
      const first = await store.history('g', { limit: 2 });
      expect(first.messages.map((m) => m.text)).toEqual(['old 3', 'old 2']);
      await store.addMessages([
        {
          groupId: 'g',
          seq: 4,
          clientMsgId: 'c4',
          senderAccountId: 'a',
          senderDeviceId: 'd',
          sentAtMs: 4,
          text: 'new',
          outgoing: false,
        },
      ]);
      const all = await store.history('g', { limit: 10 });
      expect(all.messages.map((m) => m.text)).toEqual(['new', 'old 3', 'old 2', 'old 1']);
      expect(await store.unreadCount('g')).toBe(4);
      expect(all.messages[0]).not.toHaveProperty('order');
    } finally {
      store.close();
    }
  });

  it('opens a version-3 database: groups saved whole are split into parts, and save in parts after', async () => {
    const factory = new IDBFactory();
    const stores = ['meta', 'seqs', 'outbox', 'keyPackages', 'groups', 'stash', 'messages', 'knownKeys'];
    const page = (n: number) => new TextEncoder().encode(`page ${n}`.padEnd(64, '.'));
    // A whole state as version 4 joined it: the secret part (its version byte first) and the pages.
    const parts = { secrets: Uint8Array.of(4, 1, 2, 3), pages: [page(0), page(1), page(2)] };
    const old = factory.open('device', 3);
    old.onupgradeneeded = () => {
      for (const name of [...stores, 'chatStates', 'pendingActions']) old.result.createObjectStore(name);
      const groups = old.transaction!.objectStore('groups');
      groups.put({ state: joinGroupState(parts), seq: 4, version: 2 }, 'g');
      groups.put({ state: Uint8Array.of(2, 7, 7), seq: 1, version: 1 }, 'older');
    };
    await new Promise<void>((resolve, reject) => {
      old.onsuccess = () => {
        old.result.close();
        resolve();
      };
      old.onerror = () => reject(old.error);
    });
    const store = await IndexedDbMlsStore.open('device', factory);
    try {
      expect(await store.group('g')).toEqual({ state: parts, seq: 4, version: 2 });
      expect(await store.group('older')).toEqual({
        state: { secrets: Uint8Array.of(2, 7, 7), pages: [] },
        seq: 1,
        version: 1,
      });
      const next = { secrets: Uint8Array.of(4, 9), pages: [parts.pages[0]!, page(11)] };
      const change = groupStateChange(parts, next);
      expect([...change.pages.keys()]).toEqual([1]);
      expect(await store.saveGroup('g', { state: change, seq: 5 }, 2)).toBe(true);
      expect(await store.group('g')).toEqual({ state: next, seq: 5, version: 3 });
    } finally {
      store.close();
    }
  });
});

describe('IndexedDB store: glances of many chats in one read', () => {
  const roster = {
    action: 'added' as const,
    actorAccountId: 'a',
    subjectAccountIds: ['b'],
    role: '',
    title: '',
  };
  it('answers per chat what history (newest entries down to a text) and unreadCount answer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            // Per chat: entries as (roster line?, sent by me?), and how far the person read.
            entries: fc.array(fc.tuple(fc.boolean(), fc.boolean()), { maxLength: 30 }),
            readUpTo: fc.nat({ max: 30 }),
          }),
          { maxLength: 6 },
        ),
        async (chats) => {
          const store = await IndexedDbMlsStore.open('device', new IDBFactory());
          const groupIds = chats.map((_, i) => `g${i}`);
          for (const [i, chat] of chats.entries()) {
            await store.addMessages(
              chat.entries.map(([isRoster, mine], n) => ({
                groupId: `g${i}`,
                seq: n + 1,
                clientMsgId: `c${n}`,
                senderAccountId: mine ? 'me' : 'other',
                senderDeviceId: mine ? 'dme' : 'dother',
                sentAtMs: 1_000 + n,
                text: isRoster ? '' : `text ${n}`,
                outgoing: mine,
                ...(isRoster ? { roster } : {}),
              })),
            );
            await store.advanceChatState(`g${i}`, { myReadUpTo: chat.readUpTo });
          }
          const glances = await store.glances([...groupIds, 'none'], 5);
          for (const groupId of [...groupIds, 'none']) {
            const page = await store.history(groupId, { limit: 5 });
            const glance = glances.get(groupId)!;
            // The newest entries, cut after the first that is not a roster line.
            const text = page.messages.findIndex((m) => m.roster === undefined);
            const expected = text === -1 ? page.messages : page.messages.slice(0, text + 1);
            expect(glance.messages).toEqual(expected);
            expect(glance.unread).toBe(await store.unreadCount(groupId));
            if (text === -1) expect(glance.more).toBe(page.before !== undefined);
          }
          store.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
