import { createServer, type Server } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { signEndpointList, toBase64 } from '@courier/protocol';
import { createRelay, type Relay } from '@courier/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CensorProxy } from './censorship/censor-proxy.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { launchChromium } from './support/chromium.ts';
import { checkScreen, signUpInBrowser, type WebPerson } from './support/web-person.ts';

/** Screenshots of the screens this file shows (gitignored, kept by the test run). */
const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

type Person = WebPerson;

/**
 * The message view of the web app in Debian's Chromium against real servers: sending states from
 * end-to-end receipts (delivered and read, both ways; a read on the person's other device clears the
 * unread count), the read-receipts setting (off hides reads both ways), offline and back (exactly the
 * missed messages, once, in order; texts written offline go out), a chat of 10,000 stored messages
 * opened at its newest page and scrolled up page by page, and failover across the signed endpoint
 * list (a dead endpoint, a relay, a core). axe-core finds no serious or critical violation.
 */
describe('the message view: receipts, paged history, offline, failover (Chromium)', () => {
  let browser: Browser;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const check = (page: Page, screen: string) => checkScreen(page, screen, ARTIFACTS);
  const signUp = (server: TestServer, name: string): Promise<Person> =>
    signUpInBrowser(browser, server, name);

  const connected = (page: Page) =>
    page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
  const texts = (page: Page) => page.locator('.message .text').allTextContents();
  const chatButton = (page: Page, title: string) =>
    page.getByRole('list', { name: 'Your chats' }).getByRole('button', { name: new RegExp(title) });

  async function openChat(page: Page, title: string): Promise<void> {
    await chatButton(page, title).click();
    await page.getByRole('heading', { name: title, exact: true }).waitFor();
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
  }

  /** The sending state of my message with this text, as the view marks it (data-state). */
  const stateOf = (page: Page, text: string) =>
    page
      .locator('.message.out')
      .filter({ has: page.locator('.text', { hasText: new RegExp(`^${escapeRegExp(text)}$`) }) })
      .locator('[data-state]')
      .getAttribute('data-state');

  /** Alice opens a chat with Bob and writes; Bob accepts her request (issue 12) and sees it. */
  async function startChat(alice: Person, bob: Person, first: string): Promise<void> {
    await alice.page.getByRole('button', { name: 'New chat' }).click();
    await alice.page.getByLabel('Username or phone number').fill(`@${bob.username}`);
    await alice.page.getByRole('button', { name: 'Open chat' }).click();
    await alice.page.getByRole('heading', { name: bob.name, exact: true }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).and(alice.page.locator(':enabled')).waitFor();
    await send(alice.page, first);
    await bob.page.locator('.requests-entry').filter({ hasText: '1 waiting' }).waitFor({ timeout: 60_000 });
    await bob.page.locator('.requests-entry').click();
    await bob.page
      .getByRole('list', { name: 'Waiting requests' })
      .getByRole('button', { name: new RegExp(alice.name) })
      .click();
    await bob.page
      .getByRole('region', { name: 'Message request' })
      .getByRole('button', { name: 'Accept' })
      .click();
    await bob.page.getByRole('heading', { name: alice.name, exact: true }).waitFor();
    await expect.poll(() => texts(bob.page), { timeout: 60_000 }).toEqual([first]);
  }

  /** Holds for a while: what a receipt that should never come would have changed by then. */
  async function stays<T>(read: () => Promise<T>, value: T, ms = 2_000): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      expect(await read()).toEqual(value);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('delivered and read both ways, a read on my other device clears my unread count, read receipts off hides reads both ways, offline and back', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const alice = await signUp(server, 'Alice');
    const bob = await signUp(server, 'Bob');
    // Alice's second device (a CLI-like SDK device), there before the chat so it is in it.
    const alicePhone = await secureDevice(server, await server.login(alice.phone));
    cleanups.push(() => alicePhone.client.stop());

    // Alice writes; Bob accepts and reads it: Alice sees "read".
    await startChat(alice, bob, 'hello bob');
    await expect.poll(() => stateOf(alice.page, 'hello bob'), { timeout: 60_000 }).toBe('read');
    // Bob answers while Alice looks at the chat: Bob sees "read".
    await send(bob.page, 'hello alice');
    await expect.poll(() => texts(alice.page), { timeout: 60_000 }).toEqual(['hello bob', 'hello alice']);
    await expect.poll(() => stateOf(bob.page, 'hello alice'), { timeout: 60_000 }).toBe('read');
    await alice.page.locator('.message.out').getByText('Read').waitFor();
    await check(alice.page, 'history-receipts');

    // Alice looks elsewhere; Bob writes: her device has it (Bob sees "delivered", not read) and her
    // list counts it unread.
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    await alice.page.getByRole('heading', { name: 'Settings', exact: true }).waitFor();
    await send(bob.page, 'are you there');
    await expect.poll(() => stateOf(bob.page, 'are you there'), { timeout: 60_000 }).toBe('delivered');
    await chatButton(alice.page, 'Bob').filter({ hasText: '1 unread' }).waitFor({ timeout: 60_000 });
    // Alice reads it on her other device: the count goes here too, and Bob sees "read".
    const there = () => alicePhone.received.find((m) => m.text === 'are you there');
    await expect.poll(() => there()?.seq ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
    await alicePhone.client.markRead(there()!.groupId, there()!.seq);
    await alicePhone.client.flushReceipts();
    await chatButton(alice.page, 'Bob').filter({ hasNotText: 'unread' }).waitFor({ timeout: 60_000 });
    await expect.poll(() => stateOf(bob.page, 'are you there'), { timeout: 60_000 }).toBe('read');

    // Alice turns read receipts off (Settings, this device): the reads she saw now show as delivered,
    // and her own reads go to nobody.
    const toggle = alice.page.getByRole('checkbox', { name: 'Send and show read receipts' });
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await alice.page.getByText('Read receipts are off.').waitFor();
    await check(alice.page, 'settings-read-receipts');
    await send(bob.page, 'private?');
    await expect.poll(() => stateOf(bob.page, 'private?'), { timeout: 60_000 }).toBe('delivered');
    await openChat(alice.page, 'Bob');
    await expect.poll(() => texts(alice.page), { timeout: 60_000 }).toContain('private?');
    expect(await stateOf(alice.page, 'hello bob')).toBe('delivered');
    await send(alice.page, 'mine');
    await expect.poll(() => texts(bob.page), { timeout: 60_000 }).toContain('mine');
    // Bob read "mine" (his chat is open) and Alice read "private?": neither shows as read.
    await send(bob.page, 'after reading');
    await expect.poll(() => texts(alice.page), { timeout: 60_000 }).toContain('after reading');
    await expect.poll(() => stateOf(alice.page, 'mine'), { timeout: 60_000 }).toBe('delivered');
    await stays(() => stateOf(alice.page, 'mine'), 'delivered');
    await stays(() => stateOf(bob.page, 'private?'), 'delivered');
    expect(await alice.page.locator('.message.out [data-state="read"]').count()).toBe(0);
    // On again: reads show again (Bob's next read of a new message).
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    await toggle.check();
    await alice.page.getByText('Read receipts are on.').waitFor();
    await openChat(alice.page, 'Bob');
    await send(alice.page, 'receipts on');
    await expect.poll(() => stateOf(alice.page, 'receipts on'), { timeout: 60_000 }).toBe('read');

    // Bob goes offline; Alice writes three; Bob comes back and gets exactly those, once, in order;
    // what he wrote offline waits (queued) and goes out once.
    await expect.poll(() => texts(bob.page), { timeout: 60_000 }).toContain('receipts on');
    const before = await texts(bob.page);
    await bob.context.setOffline(true);
    await bob.page.getByRole('status').filter({ hasText: 'Connecting…' }).waitFor({ timeout: 30_000 });
    for (const text of ['missed 1', 'missed 2', 'missed 3']) await send(alice.page, text);
    await expect
      .poll(() => alice.page.locator('.message.out [data-state="stored"]').count(), { timeout: 30_000 })
      .toBe(3);
    await send(bob.page, 'written offline');
    expect(await stateOf(bob.page, 'written offline')).toBe('queued');
    await bob.context.setOffline(false);
    await connected(bob.page);
    // Both see the chat in the server's order: the missed ones, then what Bob wrote offline (it
    // reached the server after them).
    await expect
      .poll(() => texts(bob.page), { timeout: 60_000 })
      .toEqual([...before, 'missed 1', 'missed 2', 'missed 3', 'written offline']);
    await expect.poll(() => stateOf(bob.page, 'written offline'), { timeout: 60_000 }).not.toBe('queued');
    await expect
      .poll(() => texts(alice.page), { timeout: 60_000 })
      .toEqual([...before, 'missed 1', 'missed 2', 'missed 3', 'written offline']);
    // Bob's open chat read them: Alice sees "read" on the three.
    for (const text of ['missed 1', 'missed 2', 'missed 3'])
      await expect.poll(() => stateOf(alice.page, text), { timeout: 60_000 }).toBe('read');

    for (const person of [alice, bob]) await person.context.close();
    expect(alicePhone.undecryptable).toEqual([]);
  }, 600_000);

  it('a chat of 10,000 stored messages opens at its newest page and loads older pages as the person scrolls up', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.close());
    const dora = await signUp(server, 'Dora');
    // The other person: an SDK device in a real chat with Dora, whose first message her browser
    // decrypts and keeps in IndexedDB as always.
    const peer = await secureDevice(server, await server.register(nextPhone()));
    cleanups.push(() => peer.client.stop());
    const peerName = `writer${Date.now() % 1_000_000}`;
    await peer.client.http.setDisplayName('Writer');
    await peer.client.http.setUsername(peerName);
    await dora.page.getByRole('button', { name: 'New chat' }).click();
    await dora.page.getByLabel('Username or phone number').fill(`@${peerName}`);
    await dora.page.getByRole('button', { name: 'Open chat' }).click();
    await dora.page.getByRole('heading', { name: 'Writer', exact: true }).waitFor();
    const groupId = (await peer.client.http.groups())[0]!.groupId;
    await peer.client.acceptRequest(groupId);
    await peer.joined(groupId, 60_000);
    await peer.client.sendText(groupId, 'the first message, through the server');
    await dora.page.getByRole('button', { name: 'Settings' }).click();
    await chatButton(dora.page, 'Writer')
      .filter({ hasText: 'the first message, through the server' })
      .waitFor({ timeout: 60_000 });

    // Then 10,000 more (the size, the `web` bench's), seeded into the device's history by the
    // app's own store code (the SDK's IndexedDbMlsStore, bundled here and run in Dora's page, on the
    // database her worker uses), as received from Writer at the next positions of the chat. Not sent
    // through the server: her browser takes in messages at ~200 a second as a backlog (bench figure
    // catch_up_msg_per_s) and slower while online, so 10,000 real ones took 263 s of this test on a
    // loaded machine (2026-12-03), far from the minute a test may take; the first message above went
    // through the server, and a backlog through the server is what the bench measures.
    const TOTAL = 10_000;
    const seeder = await build({
      entryPoints: [fileURLToPath(new URL('../packages/sdk/src/mls/indexeddb-store.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      globalName: 'CourierStore',
      platform: 'browser',
      target: 'chrome120',
      write: false,
    });
    await dora.page.evaluate(`${seeder.outputFiles[0]!.text}\nglobalThis.CourierStore = CourierStore; 0`);
    const seeded = await dora.page.evaluate(
      async ({ groupId, total, peer }) => {
        const session = JSON.parse(localStorage.getItem('courier-session')!) as { deviceId: string };
        const { IndexedDbMlsStore } = (
          globalThis as unknown as { CourierStore: typeof import('@courier/sdk') }
        ).CourierStore;
        const store = await IndexedDbMlsStore.open(`courier-device-${session.deviceId}`);
        try {
          const newest = await store.history(groupId, { limit: 50 });
          const from = Math.max(...newest.messages.map((m) => m.seq)) + 1;
          const now = Date.now();
          for (let n = 1; n <= total; n += 500) {
            const run = [];
            for (let k = n; k < Math.min(n + 500, total + 1); k++)
              run.push({
                groupId,
                seq: from + k - 1,
                clientMsgId: `seeded-${k}`,
                senderAccountId: peer.accountId,
                senderDeviceId: peer.deviceId,
                outgoing: false,
                // A minute apart, the newest a minute ago: a week of history with its day separators.
                sentAtMs: now - (total - k + 1) * 60_000,
                text: `message ${k} of ${total}`,
              });
            await store.addMessages(run);
          }
          return (await store.history(groupId, { limit: 1 })).messages[0]?.text;
        } finally {
          store.close();
        }
      },
      { groupId, total: TOTAL, peer: { accountId: peer.user.accountId, deviceId: peer.user.deviceId } },
    );
    expect(seeded).toBe(`message ${TOTAL} of ${TOTAL}`);

    // A fresh navigation opens the chat at its newest page: one page in the view, not the chat.
    await dora.page.reload();
    await connected(dora.page);
    await openChat(dora.page, 'Writer');
    const page = dora.page;
    const numbers = async () =>
      (await texts(page)).map((t) => Number(/^message (\d+) of/.exec(t)?.[1] ?? Number.NaN));
    const consecutive = (list: number[], last: number) =>
      list.every((n, i) => n === last - list.length + 1 + i);
    await expect.poll(async () => (await numbers()).at(-1), { timeout: 60_000 }).toBe(TOTAL);
    const first = await numbers();
    expect(first.length).toBe(50);
    expect(consecutive(first, TOTAL)).toBe(true);
    await check(page, 'history-big-chat');

    // Scrolling up loads the page before, twice, in order, keeping what was shown.
    for (const shown of [100, 150]) {
      await page.locator('.messages').evaluate((element) => {
        element.scrollTop = 0;
      });
      await expect.poll(async () => (await numbers()).length, { timeout: 60_000 }).toBe(shown);
      const now = await numbers();
      expect(consecutive(now, TOTAL)).toBe(true);
    }
    // By keyboard too: the button above the history loads the next older page. Focused without
    // scrolling: scrolled to the top, the history would load that page itself, and Enter one more.
    await page
      .getByRole('button', { name: 'Load older messages' })
      .evaluate((button: HTMLElement) => button.focus({ preventScroll: true }));
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await numbers()).length, { timeout: 60_000 }).toBe(200);
    expect((await numbers())[0]).toBe(TOTAL - 199);
    // Dora read the chat: the list counts nothing unread.
    await chatButton(page, 'Writer').filter({ hasNotText: 'unread' }).waitFor({ timeout: 60_000 });
    await dora.context.close();
  }, 900_000);

  it('fails over across the signed endpoint list: past a dead endpoint through a relay, then to a core when the relay is blocked', async () => {
    const key = ed25519.utils.randomSecretKey();
    const dir = mkdtempSync(join(tmpdir(), 'courier-web-failover-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const bundleFile = join(dir, 'endpoints.json');
    const server = await startTestServer({
      config: { endpoints: { bundleFile, webKeys: [toBase64(ed25519.getPublicKey(key))] } },
    });
    cleanups.push(() => server.close());
    // An endpoint that is down: every connection to it is reset at once (and counted).
    let deadTries = 0;
    const dead: Server = createServer((socket) => {
      deadTries += 1;
      socket.resetAndDestroy();
    });
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => dead.close(() => resolve())));
    const relay: Relay = createRelay({ upstream: server.url, path: '/web-relay-secret' });
    const relayPort = Number(new URL(await relay.listen(0, '127.0.0.1')).port);
    cleanups.push(() => relay.close());
    // The way to the relay, which the test blocks later (TCP resets, as a censor's).
    const toRelay = new CensorProxy({ host: '127.0.0.1', port: relayPort });
    const toRelayPort = await toRelay.start();
    cleanups.push(() => toRelay.close());
    const now = Date.now();
    const list = signEndpointList(
      {
        version: 1,
        serial: 1,
        issuedAt: now - 1000,
        expiresAt: now + 86_400_000,
        corePins: [],
        endpoints: [
          {
            id: 'down',
            kind: 'core',
            url: `http://127.0.0.1:${(dead.address() as { port: number }).port}`,
            weight: 1000,
          },
          {
            id: 'relay-1',
            kind: 'relay',
            url: `http://127.0.0.1:${toRelayPort}/web-relay-secret`,
            weight: 1000,
          },
          { id: 'core-1', kind: 'core', url: server.url, weight: 1 },
        ],
      },
      key,
    );
    writeFileSync(bundleFile, JSON.stringify({ list, tickets: {} }));

    // The page carries the pinned key; its policy lets it reach the list's endpoints.
    const response = await fetch(server.url);
    expect(await response.text()).toContain(
      `<meta name="courier-endpoint-keys" content="${toBase64(ed25519.getPublicKey(key))}">`,
    );
    expect(response.headers.get('content-security-policy')).toContain(`ws://127.0.0.1:${toRelayPort}`);

    // Someone to write to: an SDK device with a username.
    const bob = await secureDevice(server, await server.register(nextPhone()));
    cleanups.push(() => bob.client.stop());
    const bobName = `bob${Date.now() % 1_000_000}`;
    await bob.client.http.setDisplayName('Bob');
    await bob.client.http.setUsername(bobName);

    // Erin signs up in the browser: her device connects through the relay (the dead one is passed).
    const erin = await signUp(server, 'Erin');
    expect(relay.counters.upgrades).toBeGreaterThanOrEqual(1);
    await erin.page.getByRole('button', { name: 'New chat' }).click();
    await erin.page.getByLabel('Username or phone number').fill(`@${bobName}`);
    await erin.page.getByRole('button', { name: 'Open chat' }).click();
    await erin.page.getByRole('heading', { name: 'Bob', exact: true }).waitFor();
    await erin.page.getByLabel('Message', { exact: true }).and(erin.page.locator(':enabled')).waitFor();
    await send(erin.page, 'through the relay');
    const groupId = (await bob.client.http.groups())[0]!.groupId;
    await expect
      .poll(() => bob.received.map((m) => m.text), { timeout: 60_000 })
      .toEqual(['through the relay']);

    // The relay is blocked: the app moves to the core (the dead endpoint tried again on the way).
    toRelay.set('reset');
    await connected(erin.page);
    await send(erin.page, 'through the core');
    await expect
      .poll(() => bob.received.map((m) => m.text), { timeout: 60_000 })
      .toEqual(['through the relay', 'through the core']);
    expect(deadTries).toBeGreaterThanOrEqual(1);
    await expect.poll(() => stateOf(erin.page, 'through the core'), { timeout: 60_000 }).not.toBe('queued');
    // Bob writes back; Erin's device gets it through the core.
    await bob.client.acceptRequest(groupId);
    await bob.client.sendText(groupId, 'got both');
    await expect
      .poll(() => texts(erin.page), { timeout: 60_000 })
      .toEqual(['through the relay', 'through the core', 'got both']);
    await erin.context.close();
  }, 600_000);
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
