import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { IndexedDbMlsStore } from '../mls/indexeddb-store.ts';
import { describeMlsStoreContract } from './mls-store-contract.ts';

// IndexedDB in Node through fake-indexeddb; the browser scenario (test/browser-e2e.test.ts) runs the
// same store in Chromium.
describeMlsStoreContract('IndexedDB (fake-indexeddb)', async () => {
  const factory = new IDBFactory();
  const store = await IndexedDbMlsStore.open('device', factory);
  return { store, close: () => store.close() };
});
