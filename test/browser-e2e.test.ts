import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerApi } from './browser/secure-worker.ts';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { launchChromium } from './support/chromium.ts';

type Method = keyof WorkerApi;
type Result<M extends Method> = Awaited<ReturnType<WorkerApi[M]>>;

/** What the test page defines: a call into the device running in its Web Worker. */
interface TestPage {
  rpc(method: string, args: unknown[]): Promise<unknown>;
}

/**
 * The SDK in Debian's Chromium, in a dedicated Web Worker (MLS off the page's thread): a browser
 * device registers its MLS keys, joins a direct chat from its Welcome, decrypts and encrypts, keeps
 * everything in IndexedDB, and after a reload (a new page on the same origin) still has its keys,
 * its chat's group state and its messages.
 */
describe('end-to-end encryption in the browser (Chromium, Web Worker, IndexedDB)', () => {
  let server: TestServer;
  let browser: Browser;
  let bundle: string;

  beforeAll(async () => {
    server = await startTestServer();
    const result = await build({
      entryPoints: [new URL('./browser/secure-worker.ts', import.meta.url).pathname],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      write: false,
      // Node-only transports (ws, the relay tunnel's TLS) are loaded lazily and never in a browser.
      external: ['ws', 'node:*'],
      logLevel: 'silent',
    });
    bundle = result.outputFiles[0]!.text;
    // The test page is served through Playwright's route (not a real response from 127.0.0.1), so
    // Chromium would treat it as a public page and block its WebSocket to the loopback server.
    browser = await launchChromium(['--disable-features=LocalNetworkAccessChecks']);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const call = <M extends Method>(page: Page, method: M, ...args: Parameters<WorkerApi[M]>) =>
    page.evaluate(([m, a]) => (globalThis as unknown as TestPage).rpc(m, a), [
      method,
      args,
    ] as const) as Promise<Result<M>>;

  /** A page on the server's own origin (same-origin API calls) running the device in a worker. */
  async function open(context: BrowserContext, user: TestUser): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => process.stderr.write(`[page error] ${error.message}\n`));
    await page.route(`${server.url}/__sdk-test__`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>sdk</title>' }),
    );
    await page.goto(`${server.url}/__sdk-test__`);
    await page.evaluate((code) => {
      const worker = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })), {
        type: 'module',
      });
      const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
      let next = 0;
      worker.onmessage = (event: MessageEvent<{ id: number; result?: unknown; error?: string }>) => {
        const call = waiting.get(event.data.id);
        waiting.delete(event.data.id);
        if (event.data.error !== undefined) call?.reject(new Error(event.data.error));
        else call?.resolve(event.data.result);
      };
      (globalThis as unknown as TestPage).rpc = (method, args) =>
        new Promise((resolve, reject) => {
          const id = next++;
          waiting.set(id, { resolve, reject });
          worker.postMessage({ id, method, args });
        });
    }, bundle);
    const started = await call(page, 'start', {
      url: server.url,
      token: user.token,
      accountId: user.accountId,
      deviceId: user.deviceId,
    });
    expect(started).toEqual({ worker: true, indexedDb: true });
    return page;
  }

  it('joins, reads and writes, and keeps its keys, group state and messages across a reload', async () => {
    const browserUser = await server.register(nextPhone());
    const bob = await secureDevice(server, await server.register(nextPhone()));
    const context = await browser.newContext();
    let page = await open(context, browserUser);

    const chat = await bob.client.openDirect(browserUser.accountId);
    expect(await call(page, 'joined', chat.groupId)).toBe(1);
    await bob.client.sendText(chat.groupId, 'to the browser');
    expect(await call(page, 'receive', chat.groupId, 1)).toEqual(['to the browser']);
    await call(page, 'send', chat.groupId, 'from the browser');
    expect((await bob.waitFor(chat.groupId, 1)).map((m) => m.text)).toEqual(['from the browser']);
    await call(page, 'stop');
    await page.close();

    // A new page of the same origin: the device's store is still there.
    page = await open(context, browserUser);
    expect(await call(page, 'stored', chat.groupId)).toEqual([
      { text: 'to the browser', outgoing: false },
      { text: 'from the browser', outgoing: true },
    ]);
    await call(page, 'send', chat.groupId, 'after the reload');
    expect((await bob.waitFor(chat.groupId, 2)).map((m) => m.text)).toEqual([
      'from the browser',
      'after the reload',
    ]);
    await bob.client.sendText(chat.groupId, 'still reading');
    expect(await call(page, 'receive', chat.groupId, 1)).toEqual(['still reading']);
    expect(bob.undecryptable).toEqual([]);
    await call(page, 'stop');
    await context.close();
    await bob.client.stop();
  });
});
