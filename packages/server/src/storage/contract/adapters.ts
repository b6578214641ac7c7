import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, PG_ADMIN_URL } from '../../../../../test/support/postgres.ts';
import type { Storage } from '../ports.ts';
import { openPostgresStorage } from '../postgres/open-storage.ts';
import { openSqliteStorage } from '../sqlite/open-storage.ts';

/**
 * A fresh, empty PostgreSQL database. The PostgreSQL suites are never skipped: when the server is
 * not there they fail, saying so.
 */
export async function createRequiredTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  try {
    return await createTestDatabase();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_ADMIN_URL}. These tests need it (CI starts it); start it ` +
        'on 127.0.0.1:5432 with trust auth, or point COURIER_TEST_PG_ADMIN_URL at one.',
      { cause: error },
    );
  }
}

/** A fresh SQLite file in its own temporary directory. */
export function temporarySqlitePath(): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'courier-contract-'));
  return { path: join(dir, 'courier.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface OpenedStorage {
  storage: Storage;
  /** Closes the storage and removes its database. */
  dispose(): Promise<void>;
}

export interface StorageAdapter {
  name: 'sqlite' | 'postgres';
  /** Opens the adapter on a fresh, migrated, empty database. */
  open(): Promise<OpenedStorage>;
}

/** Every storage adapter the server can be configured with; the contract suite runs on each. */
export const storageAdapters: StorageAdapter[] = [
  {
    name: 'sqlite',
    open: async () => {
      const file = temporarySqlitePath();
      const storage = await openSqliteStorage({ path: file.path });
      return {
        storage,
        dispose: async () => {
          await storage.close();
          file.remove();
        },
      };
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const db = await createRequiredTestDatabase();
      // More connections than a node uses, so that concurrent transactions really overlap.
      const storage = await openPostgresStorage({ url: db.url, poolSize: 8 });
      return {
        storage,
        dispose: async () => {
          await storage.close();
          await db.drop();
        },
      };
    },
  },
];
