import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { launchChromium } from './support/chromium.ts';
import {
  screenChecker,
  signUpInBrowser,
  type WebPerson,
  acceptRequestInBrowser,
} from './support/web-person.ts';

/** A message of mine the server has (stored, delivered or read: no longer queued on the device). */
const SENT = '.message.out [data-state]:not([data-state="queued"])';

/** Screenshots of every screen, at phone and desktop widths (gitignored, kept by the test run). */
const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

type Person = WebPerson;

/**
 * The messenger in Debian's Chromium against a real server: people sign up in their own browser
 * contexts, write to each other both ways, one goes offline and gets exactly the messages they
 * missed (once, in order) when back, texts written offline go out on reconnect, a third person joins
 * a group, their safety numbers match, and a reload keeps everything (keys and history live in
 * IndexedDB, worked by the app's Web Worker). Each screen passes axe-core without a serious or
 * critical violation, and is photographed at 360 and 1280 px.
 */
describe('the messenger (Chromium, Web Worker, IndexedDB)', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Axe at both widths, and a screenshot at each, once per named screen. */
  const check = screenChecker(ARTIFACTS);

  const signUp = (name: string, screens = false): Promise<Person> =>
    signUpInBrowser(browser, server, name, screens ? { onScreen: check } : {});

  const connected = (page: Page) => page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();

  /** The texts of a chat's messages as shown, oldest first. */
  const texts = (page: Page) => page.locator('.message .text').allTextContents();

  async function openChat(page: Page, title: string): Promise<void> {
    await page
      .getByRole('list', { name: 'Your chats' })
      .getByRole('button', { name: new RegExp(title) })
      .click();
    await page.getByRole('heading', { name: title, exact: true }).waitFor();
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
  }

  it('two people write both ways; offline and back gets the missed messages once, in order; a group; a reload keeps all', async () => {
    const alice = await signUp('Alice', true);
    const bob = await signUp('Bob');

    // Alice opens a chat with Bob by @username; the chat list and the empty chat pass axe.
    await check(alice.page, 'chat-list-empty');
    await alice.page.getByRole('button', { name: 'New chat' }).click();
    await alice.page.getByLabel('Username or phone number').fill(`@${bob.username}`);
    await check(alice.page, 'new-chat');
    await alice.page.getByRole('button', { name: 'Open chat' }).click();
    await alice.page.getByRole('heading', { name: 'Bob', exact: true }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).and(alice.page.locator(':enabled')).waitFor();
    await send(alice.page, 'Hi Bob, see https://example.org/plan?x=1 and <b>not bold</b>');

    // Alice is not Bob's contact yet (issue 12): her chat is a message request under Requests, not
    // among his chats. Bob opens it and accepts; it is a chat now. The link is a link, the markup text.
    const bobList = bob.page.getByRole('list', { name: 'Your chats' });
    await bob.page.locator('.requests-entry').filter({ hasText: '1 waiting' }).waitFor({ timeout: 30_000 });
    expect(await bobList.count()).toBe(0);
    await acceptRequestInBrowser(bob.page, 'Alice');
    await bobList.getByRole('button', { name: /Alice/ }).waitFor();
    await expect
      .poll(() => texts(bob.page))
      .toEqual(['Hi Bob, see https://example.org/plan?x=1 and <b>not bold</b>']);
    expect(
      await bob.page.getByRole('link', { name: 'https://example.org/plan?x=1' }).getAttribute('href'),
    ).toBe('https://example.org/plan?x=1');
    expect(await bob.page.locator('.message b').count()).toBe(0);
    await bobList.getByRole('button', { name: /Alice/ }).filter({ hasNotText: 'unread' }).waitFor();
    await send(bob.page, 'Hello Alice');
    await expect
      .poll(() => texts(alice.page))
      .toEqual(['Hi Bob, see https://example.org/plan?x=1 and <b>not bold</b>', 'Hello Alice']);
    // Alice's own message is stored by the server (or further: delivered, read; test/web-history.test.ts).
    await alice.page.locator(SENT).first().waitFor();
    await check(alice.page, 'chat');

    // Bob goes offline; Alice writes three; Bob comes back and gets exactly those, once, in order.
    await bob.context.setOffline(true);
    await bob.page.getByRole('status').filter({ hasText: 'Connecting…' }).waitFor({ timeout: 30_000 });
    for (const text of ['one', 'two', 'three']) await send(alice.page, text);
    await expect.poll(() => alice.page.locator(SENT).count()).toBe(4);
    // Bob, offline, writes too: the text waits in his outbox, marked queued.
    await send(bob.page, 'written offline');
    await bob.page.locator('.message.out [data-state="queued"]').waitFor();
    await check(bob.page, 'chat-offline');
    await bob.context.setOffline(false);
    await connected(bob.page);
    await expect
      .poll(() => texts(bob.page), { timeout: 30_000 })
      .toEqual([
        'Hi Bob, see https://example.org/plan?x=1 and <b>not bold</b>',
        'Hello Alice',
        'one',
        'two',
        'three',
        'written offline',
      ]);
    await bob.page
      .locator('.message.out [data-state="queued"]')
      .waitFor({ state: 'detached', timeout: 30_000 });
    await expect
      .poll(() => texts(alice.page), { timeout: 30_000 })
      .toEqual([
        'Hi Bob, see https://example.org/plan?x=1 and <b>not bold</b>',
        'Hello Alice',
        'one',
        'two',
        'three',
        'written offline',
      ]);

    // Safety numbers: each sees the same number for the other.
    await alice.page.getByRole('button', { name: 'Chat info' }).click();
    await alice.page.locator('#safety-number').waitFor();
    await bob.page.getByRole('button', { name: 'Chat info' }).click();
    await bob.page.locator('#safety-number').waitFor();
    const aliceSees = (await alice.page.locator('#safety-number').textContent())!.replace(/\D/g, '');
    const bobSees = (await bob.page.locator('#safety-number').textContent())!.replace(/\D/g, '');
    expect(aliceSees.length).toBeGreaterThanOrEqual(30);
    expect(aliceSees).toBe(bobSees);
    await alice.page.getByRole('img', { name: /QR code of the safety number/ }).waitFor();
    await alice.page.getByRole('checkbox', { name: 'Mark Bob as verified (the numbers match)' }).check();
    await check(alice.page, 'safety-number');
    await alice.page.getByRole('button', { name: 'Back to the chat' }).click();
    await alice.page.getByText('✓ Verified').waitFor();
    await bob.page.getByRole('button', { name: 'Back to the chat' }).click();
    expect(await bob.page.getByText('✓ Verified').count()).toBe(0);

    // A third person; Alice makes a group with Bob and Carol and writes in it.
    const carol = await signUp('Carol');
    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByLabel('Group name').fill('Trip');
    await alice.page
      .getByLabel('Members (usernames or phone numbers, separated by commas)')
      .fill(`@${bob.username}, @${carol.username}`);
    await check(alice.page, 'new-group');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByRole('heading', { name: 'Trip', exact: true }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).and(alice.page.locator(':enabled')).waitFor();
    await send(alice.page, 'Welcome to the trip');
    await openChat(carol.page, 'Trip');
    await expect.poll(() => texts(carol.page), { timeout: 30_000 }).toEqual(['Welcome to the trip']);
    await send(carol.page, 'Thanks!');
    await openChat(bob.page, 'Trip');
    await expect.poll(() => texts(bob.page), { timeout: 30_000 }).toEqual(['Welcome to the trip', 'Thanks!']);
    expect((await carol.page.locator('.notice').allTextContents()).join('\n')).toMatch(
      /Alice (created the chat “Trip” with|added) (Bob, You|You, Bob)/,
    );
    await check(carol.page, 'group-chat');

    // Group info: members and roles; Alice (owner) makes Bob an admin.
    await alice.page.getByRole('button', { name: 'Chat info' }).click();
    const members = alice.page.getByRole('list', { name: 'Members' });
    await members.getByText('Carol', { exact: true }).waitFor();
    expect(await members.getByRole('listitem').count()).toBe(3);
    await alice.page.getByRole('button', { name: 'Make Bob an admin' }).click();
    await alice.page.getByRole('button', { name: 'Make Bob a member' }).waitFor();
    await check(alice.page, 'group-info');

    // Keyboard alone: from the search field, Tab reaches the newest chat and Enter opens it.
    await alice.page.getByLabel('Search chats').focus();
    await alice.page.keyboard.press('Tab');
    await alice.page.keyboard.press('Enter');
    await alice.page.getByRole('heading', { name: 'Trip', exact: true }).waitFor();
    await alice.page.getByRole('button', { name: 'Chat info' }).click();

    // Alice removes Carol; Bob leaves. Both lose the chat; Alice's member list shrinks.
    for (const person of [alice, bob]) person.page.on('dialog', (dialog) => void dialog.accept());
    await alice.page.getByRole('button', { name: 'Remove Carol' }).click();
    await expect.poll(() => members.getByRole('listitem').count(), { timeout: 30_000 }).toBe(2);
    await expect
      .poll(() => carol.page.getByRole('list', { name: 'Your chats' }).locator('.chat-title').count(), {
        timeout: 30_000,
      })
      .toBe(0);
    await bob.page.getByRole('button', { name: 'Chat info' }).click();
    await bob.page.getByRole('button', { name: 'Leave group' }).click();
    await expect
      .poll(() => bob.page.getByRole('list', { name: 'Your chats' }).locator('.chat-title').allTextContents())
      .toEqual(['Alice']);
    await expect.poll(() => members.getByRole('listitem').count(), { timeout: 30_000 }).toBe(1);

    // The chat list: ordered by activity, searchable.
    const aliceList = alice.page.getByRole('list', { name: 'Your chats' });
    await expect
      .poll(() => aliceList.locator('.chat-title').allTextContents())
      .toEqual(['Trip · group', 'Bob']);
    await alice.page.getByLabel('Search chats').fill('bob');
    await expect.poll(() => aliceList.locator('.chat-title').allTextContents()).toEqual(['Bob']);
    await alice.page.getByLabel('Search chats').fill('');
    await check(alice.page, 'chat-list');

    // A second tab of Bob's browser takes the device's connection; the first one says so and can
    // take it back, still signed in.
    const second = await bob.context.newPage();
    await second.goto(server.url);
    await connected(second);
    await bob.page
      .getByRole('status')
      .filter({ hasText: 'Open in another tab' })
      .waitFor({ timeout: 30_000 });
    await second.close();
    await bob.page.getByRole('button', { name: 'Use Courier in this tab' }).click();
    await connected(bob.page);

    // A reload keeps everything: still signed in, same chats, same history, can still write.
    await bob.page.reload();
    await bob.page.getByRole('heading', { name: 'Chats', exact: true }).waitFor();
    await connected(bob.page);
    await openChat(bob.page, 'Alice');
    await expect
      .poll(() => texts(bob.page))
      .toEqual([
        'Hi Bob, see https://example.org/plan?x=1 and <b>not bold</b>',
        'Hello Alice',
        'one',
        'two',
        'three',
        'written offline',
      ]);
    await send(bob.page, 'after the reload');
    await openChat(alice.page, 'Bob');
    await expect.poll(() => texts(alice.page)).toContain('after the reload');
    expect((await texts(alice.page)).filter((t) => t === 'after the reload')).toHaveLength(1);

    // Bob signs in on a second device: Alice's chat warns that his keys changed, and her "verified"
    // mark is gone until she compares the new safety number.
    const bobsPhone = await secureDevice(server, await server.login(bob.phone));
    await alice.page.getByText(/Bob’s safety number changed/).waitFor({ timeout: 30_000 });
    expect(await alice.page.getByText('✓ Verified').count()).toBe(0);
    await check(alice.page, 'key-change-warning');
    await alice.page.getByRole('button', { name: 'Compare safety number' }).click();
    await alice.page.getByRole('button', { name: 'I compared the new safety number' }).click();
    await alice.page
      .getByRole('button', { name: 'I compared the new safety number' })
      .waitFor({ state: 'detached' });
    await bobsPhone.client.stop();

    // Settings screen passes axe too.
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    await alice.page.getByRole('heading', { name: 'Settings', exact: true }).waitFor();
    await alice.page.getByRole('list', { name: 'Your devices' }).getByText('this browser').waitFor();
    await check(alice.page, 'settings');
    // On a phone's width a pane hides the list; each pane has a way back to it.
    await alice.page.setViewportSize({ width: 360, height: 740 });
    await alice.page.getByRole('button', { name: 'Back to chats' }).click();
    await alice.page.getByRole('heading', { name: 'Chats', exact: true }).waitFor();
    await openChat(alice.page, 'Bob');
    expect(await alice.page.getByRole('heading', { name: 'Chats', exact: true }).isVisible()).toBe(false);
    await alice.page.getByRole('button', { name: 'Chats', exact: true }).click();
    await alice.page.getByRole('heading', { name: 'Chats', exact: true }).waitFor();

    for (const person of [alice, bob, carol]) await person.context.close();
  }, 240_000);
});
