/**
 * `web`: the messenger in Debian's Chromium against the bench server. A browser device with
 * `chats` direct chats (one message each); while its page is closed (the device offline) one chat
 * gets `messages` − 1 more, which the app's worker receives, decrypts and keeps in IndexedDB when
 * the page opens again:
 *   catch_up_msg_per_s    page opened → the backlog's newest message shows in the chat list
 * then, on a fresh navigation:
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

    // Peers open chats with the browser's account and write one message each. Each chat is a message
    // request of a stranger (issue 12) until the account accepts it, as it does here.
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
        if (i === 0) big = { client, groupId: chat.groupId };
        else await client.sendText(chat.groupId, 'message 1 of 1');
      }
    };
    let big: { client: SecureClient; groupId: string } | undefined;
    await Promise.all(Array.from({ length: 8 }, worker));
    // The big chat's first message last: it is the newest, at the top of the (virtualised) list.
    await big!.client.sendText(big!.groupId, `message 1 of ${p.messages}`);
    progress(`web: ${p.chats} chats opened in ${round((now() - t0) / 1000)} s`);
    // The page hears of each accepted chat: the list shows them all, the big chat on top.
    const list = page.getByRole('list', { name: 'Your chats' });
    await list.locator(`li[aria-setsize="${p.chats}"]`).first().waitFor({ timeout: 600_000 });
    await list.getByText(`message 1 of ${p.messages}`).waitFor({ timeout: 600_000 });

    // The device goes offline (its page closed) while the big chat gets the rest of its messages.
    await page.close();
    const t1 = now();
    const accepted: Promise<unknown>[] = [];
    for (let m = 2; m <= p.messages; m++)
      accepted.push((await big!.client.queueText(big!.groupId, `message ${m} of ${p.messages}`)).accepted);
    await Promise.all(accepted);
    progress(`web: ${p.messages - 1} messages sent to the offline device in ${round((now() - t1) / 1000)} s`);
    for (const client of clients) await client.stop();
    clients.length = 0;
    const bigLast = `message ${p.messages} of ${p.messages}`;
    page = await context.newPage();
    const tCatchUp = now();
    await page.goto(s.url);
    await page.getByRole('list', { name: 'Your chats' }).getByText(bigLast).waitFor({ timeout: 3_600_000 });
    const catchUpMs = now() - tCatchUp;
    progress(`web: the browser caught up in ${round(catchUpMs / 1000)} s`);

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
      figure('catch_up_msg_per_s', ((p.messages - 1) * 1000) / catchUpMs, 'msg/s'),
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
