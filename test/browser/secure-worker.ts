/**
 * Bundled by test/browser-e2e.test.ts and run in a dedicated Web Worker in Chromium: a browser
 * device of Courier doing all MLS work off the page's thread, its state in IndexedDB. The page
 * drives it with messages `{id, method, args}` and gets `{id, result}` or `{id, error}` back.
 */
import { IndexedDbMlsStore, SecureClient, type StoredMessage } from '@courier/sdk';

interface Session {
  url: string;
  token: string;
  accountId: string;
  deviceId: string;
}

let client: SecureClient | undefined;
let store: IndexedDbMlsStore | undefined;
const received: StoredMessage[] = [];

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const api = {
  async start(session: Session): Promise<{ worker: boolean; indexedDb: boolean }> {
    store = await IndexedDbMlsStore.open(`courier-device-${session.deviceId}`);
    client = new SecureClient({ ...session, store, keyPackageStock: 3 });
    client.on('message', (m) => received.push(m));
    await client.start();
    await client.ready();
    return {
      worker: typeof (globalThis as { document?: unknown }).document === 'undefined',
      indexedDb: typeof indexedDB === 'object',
    };
  },
  async joined(groupId: string): Promise<number> {
    await until(async () => (await client!.epoch(groupId)) !== undefined, 'the join');
    return (await client!.epoch(groupId))!;
  },
  async receive(groupId: string, count: number): Promise<string[]> {
    await until(() => received.filter((m) => m.groupId === groupId).length >= count, `${count} messages`);
    return received.filter((m) => m.groupId === groupId).map((m) => m.text);
  },
  async send(groupId: string, text: string): Promise<number> {
    return (await client!.sendText(groupId, text)).seq;
  },
  async stored(groupId: string): Promise<{ text: string; outgoing: boolean }[]> {
    return (await store!.messages(groupId))
      .filter((m) => m.roster === undefined)
      .map((m) => ({ text: m.text, outgoing: m.outgoing }));
  },
  async stop(): Promise<void> {
    await client?.stop();
    await store?.flushed();
    store?.close();
  },
};

export type WorkerApi = typeof api;

self.onmessage = async (event: MessageEvent<{ id: number; method: keyof WorkerApi; args: unknown[] }>) => {
  const { id, method, args } = event.data;
  try {
    const result = await (api[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    self.postMessage({ id, result });
  } catch (error) {
    self.postMessage({
      id,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
};
