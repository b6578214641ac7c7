import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMlsStoreContract } from '@courier/sdk/testing';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DeviceStore } from './device-store.ts';

describeMlsStoreContract('SQLite (the CLI device store)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-device-contract-'));
  const store = new DeviceStore(join(dir, 'd.db'));
  return {
    store,
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('device store upgrade', () => {
  it('opens a store of the version before unsupported messages and history pages, keeping its messages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-device-upgrade-'));
    try {
      const path = join(dir, 'd.db');
      const old = new Database(path);
      old.exec(`CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT, group_id TEXT NOT NULL, seq INTEGER NOT NULL,
        client_msg_id TEXT NOT NULL, sender_account_id TEXT NOT NULL, sender_device_id TEXT NOT NULL,
        sent_at_ms INTEGER NOT NULL, text TEXT NOT NULL, outgoing INTEGER NOT NULL, shown INTEGER NOT NULL, roster TEXT,
        UNIQUE (group_id, sender_device_id, client_msg_id));
        INSERT INTO messages (group_id, seq, client_msg_id, sender_account_id, sender_device_id, sent_at_ms, text,
          outgoing, shown) VALUES ('g', 1, 'c1', 'a', 'd', 5, 'kept', 0, 1);`);
      old.close();
      const store = new DeviceStore(path);
      try {
        const page = await store.history('g', { limit: 10 });
        expect(page.messages.map((m) => m.text)).toEqual(['kept']);
        await store.addMessages([
          { ...page.messages[0]!, clientMsgId: 'c2', seq: 2, text: '', unsupported: { type: 'poll', v: 1 } },
        ]);
        expect((await store.history('g', { limit: 1 })).messages[0]?.unsupported).toEqual({
          type: 'poll',
          v: 1,
        });
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
