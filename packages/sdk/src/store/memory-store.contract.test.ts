import { MemoryMlsStore } from '../mls/mls-store.ts';
import { describeMlsStoreContract } from './mls-store-contract.ts';

describeMlsStoreContract('memory', async () => ({ store: new MemoryMlsStore(), close: () => {} }));
