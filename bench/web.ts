/**
 * `web`: the messenger in Debian's Chromium against the bench server. A browser device with
 * `chats` direct chats (one message each) and one of them holding `messages` messages, all received
 * and decrypted by the app's worker into IndexedDB; then, on a fresh navigation:
 *   chat_list_ms          navigation → the chat list shows all chats (rows in the DOM, clickable)
 *   open_chat_ms          click on the big chat → its newest message is on screen
 *   first_load_js_gzip_kb JavaScript of the page itself (what index.html loads), gzipped
 *   worker_js_gzip_kb     JavaScript the MLS worker loads (counted apart), gzipped
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { CourierHttp, MemoryMlsStore, SecureClient } from '@courier/sdk';
import { chromium } from 'playwright-core';
import { ensureWebBuilt } from '../scripts/build-web.ts';
import type { BenchServer } from './bench-server.ts';
import { type Figure, progress, round } from './figure.ts';
import { now } from './lean-client.ts';

export interface WebParams {
  chats: number;
  messages: number;
}

export const WEB_DEFAULTS: WebParams = { chats: 200, messages: 10_000 };

export async function runWeb(s: BenchServer, p: WebParams, storage: string): Promise<Figure[]> {
  await ensureWebBuilt({ quiet: true });
  const [me, ...peers] = await s.register(p.chats + 1);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
  const clients: SecureClient[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // The browser is this account's device: its session is handed over as a sign-in would leave it.
    await context.addInitScript(
      (session) => {
        if (!localStorage.getItem('courier-session')) localStorage.setItem('courier-session', session);
      },
      JSON.stringify({ token: me!.token, accountId: me!.accountId, deviceId: me!.deviceId, phone: 'bench' }),
    );
    let page = await context.newPage();
    await page.goto(s.url);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });

    // Peers open chats with the browser's account and write; the first one writes `messages`. Each
    // chat is a message request of a stranger (issue 12) until the account accepts it, as it does here.
    const meHttp = new CourierHttp(s.url, me!.token);
    const t0 = now();
    let next = 0;
    const worker = async () => {
      while (next < peers.length) {
        const i = next++;
        const peer = peers[i]!;
        const client = new SecureClient({
          url: s.url,
          token: peer.token,
          accountId: peer.accountId,
          deviceId: peer.deviceId,
          store: new MemoryMlsStore(),
          keyPackageStock: 1,
        });
        clients.push(client);
        await client.start();
        await client.ready();
        const chat = await client.openDirect(me!.accountId);
        await meHttp.acceptRequest(chat.groupId);
        const count = i === 0 ? p.messages : 1;
        const accepted: Promise<unknown>[] = [];
        for (let m = 1; m <= count; m++)
          accepted.push((await client.queueText(chat.groupId, `message ${m} of ${count}`)).accepted);
        await Promise.all(accepted);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    progress(`web: ${p.chats} chats and ${p.messages} messages sent in ${round((now() - t0) / 1000)} s`);
    const bigLast = `message ${p.messages} of ${p.messages}`;
    // The accepts happened on the server while the page listed the chats as requests: a reload asks
    // for the chat list again (the worker goes on decrypting what is left).
    await page.reload();
    const list = page.getByRole('list', { name: 'Your chats' });
    await list.locator(`li[aria-setsize="${p.chats}"]`).first().waitFor({ timeout: 600_000 });
    await list.getByText(bigLast).waitFor({ timeout: 1_800_000 });
    progress(`web: the browser holds everything after ${round((now() - t0) / 1000)} s`);
    for (const client of clients) await client.stop();
    clients.length = 0;

    // A fresh navigation: the chat list, then the big chat.
    await page.close();
    page = await context.newPage();
    const scripts = new Map<string, number>();
    page.on('response', (response) => {
      if (!/\.js$/.test(new URL(response.url()).pathname)) return;
      void response.body().then(
        (body) => scripts.set(new URL(response.url()).pathname, gzipSync(body).length),
        () => {},
      );
    });
    const tList = now();
    await page.goto(s.url);
    await page
      .getByRole('list', { name: 'Your chats' })
      .locator(`li[aria-setsize="${p.chats}"] button`)
      .first()
      .waitFor({ timeout: 60_000 });
    const chatListMs = now() - tList;
    const tOpen = now();
    await page
      .getByRole('list', { name: 'Your chats' })
      .getByRole('button', { name: new RegExp(bigLast) })
      .click();
    await page.locator('.message .text').filter({ hasText: bigLast }).waitFor({ timeout: 60_000 });
    const openChatMs = now() - tOpen;

    // The page's own scripts are those index.html names; everything else came for the worker.
    const index = readFileSync(new URL('../packages/web/dist/index.html', import.meta.url), 'utf8');
    let pageBytes = 0;
    let workerBytes = 0;
    for (const [path, bytes] of scripts) {
      if (index.includes(path)) pageBytes += bytes;
      else workerBytes += bytes;
    }
    const params = { chats: p.chats, messages: p.messages };
    const figure = (name: string, value: number, unit: string, target?: string): Figure => ({
      bench: 'web',
      figure: name,
      value: round(value),
      unit,
      params,
      storage,
      ...(target ? { target } : {}),
    });
    return [
      figure('chat_list_ms', chatListMs, 'ms', '<= 1000'),
      figure('open_chat_ms', openChatMs, 'ms', '<= 300'),
      figure('first_load_js_gzip_kb', pageBytes / 1024, 'KiB', '<= 300'),
      figure('worker_js_gzip_kb', workerBytes / 1024, 'KiB'),
    ];
  } finally {
    for (const client of clients) await client.stop().catch(() => {});
    await browser.close();
  }
}
