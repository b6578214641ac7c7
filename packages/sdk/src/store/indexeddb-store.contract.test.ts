import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
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
});
