/**
 * `web`: the messenger in Debian's Chromium against the bench server. A browser device with
 * `chats` direct chats (one message each); while its page is closed (the device offline) one chat
 * gets `messages` − 1 more, which the app's worker receives, decrypts and keeps in IndexedDB when
 * the page opens again:
 *   catch_up_msg_per_s    page opened → the backlog's newest message shows in the chat list
 * then, on `navigations` fresh navigations (median, with min and max):
 *   chat_list_ms          navigation → the chat list shows all chats (rows in the DOM, clickable)
 *   open_chat_ms          click on the big chat → its newest message is on screen
 *   first_load_js_gzip_kb all JavaScript the page loaded for `/` until the chat list was interactive
 *                         (index.html's scripts, their imports and any dynamic import), gzipped; the
 *                         worker's script is not counted here
 *   worker_js_gzip_kb     the MLS worker's script and every module it loaded by then, gzipped
 * then, with the big chat open on screen:
 *   live_msg_per_s        `live` messages the big chat's peer sends while the page is open (queued
 *                         at once, as fast as the server accepts them) → the last shows in the chat
 *                         view: receiving online, message by message, as a busy chat does
 * Both times are taken inside the page (see SHOWN_AT_JS): Playwright's waitFor polls the DOM at growing
 * intervals (0, 20, 50, 100, 100, 500 ms, then every 500 ms), so a message drawn at 280 ms was seen
 * at ~770 ms and the figure measured the poll, not the app; the polled times are on stderr still.
 * Both byte counts come from each side's own Resource Timing entries (the page's, the worker's), so
 * a module lands on the side that loaded it, whatever its name; each file is fetched again from the
 * server and gzipped here. With WEB_TRACE=<file> the first navigation is traced (Chromium's trace
 * format, CPU samples of the page and the worker), to see where the time goes.
 */
import { gzipSync } from 'node:zlib';
import { CourierHttp, MemoryMlsStore, SecureClient } from '@courier/sdk';
import { chromium, type Page } from 'playwright-core';
import type { BenchServer } from './bench-server.ts';
import { type Figure, progress, round } from './figure.ts';
import { now } from './lean-client.ts';

export interface WebParams {
  chats: number;
  messages: number;
  /** Fresh navigations measured after the catch-up (figures are their medians). */
  navigations: number;
  /** Messages received online, with the big chat open, at the end. */
  live: number;
}

export const WEB_DEFAULTS: WebParams = { chats: 200, messages: 10_000, navigations: 3, live: 1_000 };

/** The JavaScript files a page or worker loaded, by its own Resource Timing entries. */
const SCRIPTS_LOADED = () =>
  performance
    .getEntriesByType('resource')
    .map((entry) => entry.name)
    .filter((name) => new URL(name).pathname.endsWith('.js'));

const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-v8.cpu_profiler',
  'blink.user_timing',
];

/**
 * In the page, before the event measured (SHOWN_AT_JS): when the first element matching `selector` whose text
 * contains `text` is on screen, as `performance.now()` in `window.__shownAt[key]` (a MutationObserver
 * sees it in the DOM; then the frame that draws it: a requestAnimationFrame, and a task after it,
 * which runs once that frame's style, layout and paint are done). With `afterClick`, only once a click
 * happened, whose time (the event's timeStamp, same clock) goes in `window.__clickAt[key]`.
 * Plain JavaScript, not a function of this file: tsx keeps function names with a helper (`__name`)
 * that does not exist in the page, so a function with named inner functions would fail there.
 */
const SHOWN_AT_JS = `(({ key, selector, text, afterClick }) => {
  window.__shownAt ??= {};
  window.__clickAt ??= {};
  const shownAt = window.__shownAt;
  const clickAt = window.__clickAt;
  if (afterClick)
    document.addEventListener('click', (event) => { clickAt[key] ??= event.timeStamp; }, { capture: true, once: true });
  let seen = false;
  const look = () => {
    if (seen || (afterClick && clickAt[key] === undefined)) return;
    if (![...document.querySelectorAll(selector)].some((element) => element.textContent.includes(text))) return;
    seen = true;
    observer.disconnect();
    requestAnimationFrame(() => {
      const after = new MessageChannel();
      after.port1.onmessage = () => { shownAt[key] = performance.now(); };
      after.port2.postMessage(undefined);
    });
  };
  // The document itself: an init script runs before there is a documentElement.
  const observer = new MutationObserver(look);
  observer.observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
  look();
})`;

/** SHOWN_AT_JS called with these arguments, as a script. */
function shownAtScript(args: { key: string; selector: string; text: string; afterClick: boolean }): string {
  return `${SHOWN_AT_JS}(${JSON.stringify(args)});`;
}

/** Reads what SHOWN_AT_JS recorded, once it has (it follows the DOM by at most a frame). */
async function shownAt(page: Page, key: string): Promise<{ shown: number; click?: number }> {
  await page.waitForFunction(
    (k) => (window as unknown as { __shownAt?: Record<string, number> }).__shownAt?.[k] !== undefined,
    key,
    {
      timeout: 60_000,
    },
  );
  return page.evaluate((k) => {
    const w = window as unknown as { __shownAt: Record<string, number>; __clickAt?: Record<string, number> };
    return { shown: w.__shownAt[k]!, ...(w.__clickAt?.[k] === undefined ? {} : { click: w.__clickAt[k] }) };
  }, key);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function runWeb(s: BenchServer, p: WebParams, storage: string): Promise<Figure[]> {
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
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 300_000 });

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
    // The big chat's peer stays connected, to write again while the page is open at the end.
    for (const client of clients) if (client !== big!.client) await client.stop();
    clients.length = 0;
    clients.push(big!.client);
    const bigLast = `message ${p.messages} of ${p.messages}`;
    page = await context.newPage();
    const tCatchUp = now();
    await page.goto(s.url);
    await page.getByRole('list', { name: 'Your chats' }).getByText(bigLast).waitFor({ timeout: 3_600_000 });
    const catchUpMs = now() - tCatchUp;
    progress(`web: the browser caught up in ${round(catchUpMs / 1000)} s`);

    // Fresh navigations: the chat list, then the big chat.
    await page.close();
    const listTimes: number[] = [];
    const openTimes: number[] = [];
    let pageScripts: string[] = [];
    let workerScripts: string[] = [];
    for (let n = 0; n < p.navigations; n++) {
      page = await context.newPage();
      // The list's time, in the page from its navigation's start (performance.now()'s origin).
      await page.addInitScript({
        content: shownAtScript({
          key: 'list',
          selector: `[aria-label="Your chats"] li[aria-setsize="${p.chats}"] button`,
          text: '',
          afterClick: false,
        }),
      });
      // WEB_TRACE=<file>: a Chromium trace (CPU samples of the page and the worker) of the first one.
      const trace = n === 0 ? process.env.WEB_TRACE : undefined;
      if (trace) await browser.startTracing(page, { path: trace, categories: TRACE_CATEGORIES });
      const tList = now();
      await page.goto(s.url);
      await page
        .getByRole('list', { name: 'Your chats' })
        .locator(`li[aria-setsize="${p.chats}"] button`)
        .first()
        .waitFor({ timeout: 60_000 });
      const polledList = now() - tList;
      listTimes.push((await shownAt(page, 'list')).shown);
      if (n === 0) {
        // What each side had loaded when the list became interactive.
        const workers = page.workers();
        const workerUrls = new Set(workers.map((w) => w.url()));
        pageScripts = (await page.evaluate(SCRIPTS_LOADED)).filter((url) => !workerUrls.has(url));
        workerScripts = [...workerUrls];
        for (const w of workers) workerScripts.push(...(await w.evaluate(SCRIPTS_LOADED)));
      }
      await page.evaluate(
        shownAtScript({ key: 'open', selector: '.message .text', text: bigLast, afterClick: true }),
      );
      const tOpen = now();
      await page
        .getByRole('list', { name: 'Your chats' })
        .getByRole('button', { name: new RegExp(bigLast) })
        .click();
      await page.locator('.message .text').filter({ hasText: bigLast }).waitFor({ timeout: 60_000 });
      const polledOpen = now() - tOpen;
      const open = await shownAt(page, 'open');
      openTimes.push(open.shown - open.click!);
      if (trace) await browser.stopTracing();
      await page.close();
      progress(
        `web: navigation ${n + 1}: list ${round(listTimes[n]!)} ms, open ${round(openTimes[n]!)} ms (as Playwright's polls saw them: ${round(polledList)}, ${round(polledOpen)} ms)`,
      );
    }
    // Receiving online: the big chat open, its peer writes `live` messages at once.
    page = await context.newPage();
    await page.goto(s.url);
    await page
      .getByRole('list', { name: 'Your chats' })
      .getByRole('button', { name: new RegExp(bigLast) })
      .click();
    await page.locator('.message .text').filter({ hasText: bigLast }).waitFor({ timeout: 60_000 });
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    const liveLast = `live ${p.live} of ${p.live}`;
    await page.evaluate(
      shownAtScript({ key: 'live', selector: '.message .text', text: liveLast, afterClick: false }),
    );
    const liveStart = await page.evaluate(() => performance.now());
    const liveAccepted: Promise<unknown>[] = [];
    for (let m = 1; m <= p.live; m++)
      liveAccepted.push((await big!.client.queueText(big!.groupId, `live ${m} of ${p.live}`)).accepted);
    await Promise.all(liveAccepted);
    await page.locator('.message .text').filter({ hasText: liveLast }).waitFor({ timeout: 3_600_000 });
    const liveMs = (await shownAt(page, 'live')).shown - liveStart;
    progress(`web: ${p.live} messages received online, the chat open, in ${round(liveMs / 1000)} s`);
    await page.close();

    const gzipped = async (urls: string[]) => {
      let bytes = 0;
      for (const url of new Set(urls)) {
        const response = await context.request.get(url);
        bytes += gzipSync(await response.body()).length;
      }
      return bytes;
    };
    const pageBytes = await gzipped(pageScripts);
    const workerBytes = await gzipped(workerScripts);
    progress(
      `web: page scripts ${pageScripts.map((u) => new URL(u).pathname).join(' ')}; worker scripts ${workerScripts.map((u) => new URL(u).pathname).join(' ')}`,
    );
    const params = { chats: p.chats, messages: p.messages, navigations: p.navigations, live: p.live };
    const figure = (name: string, value: number, unit: string, target?: string): Figure => ({
      bench: 'web',
      figure: name,
      value: round(value),
      unit,
      params,
      storage,
      ...(target ? { target } : {}),
    });
    const timed = (name: string, values: number[], target: string): Figure => ({
      ...figure(name, median(values), 'ms', target),
      runs: values.length,
      min: round(Math.min(...values)),
      max: round(Math.max(...values)),
    });
    return [
      figure('catch_up_msg_per_s', ((p.messages - 1) * 1000) / catchUpMs, 'msg/s'),
      timed('chat_list_ms', listTimes, '<= 1000'),
      timed('open_chat_ms', openTimes, '<= 300'),
      figure('first_load_js_gzip_kb', pageBytes / 1024, 'KiB', '<= 300'),
      figure('worker_js_gzip_kb', workerBytes / 1024, 'KiB'),
      figure('live_msg_per_s', (p.live * 1000) / liveMs, 'msg/s'),
    ];
  } finally {
    for (const client of clients) await client.stop().catch(() => {});
    await browser.close();
  }
}
