import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type ChannelView, generateChannelKey } from '@courier/protocol';
import { ChannelClient, CourierHttp, MemoryChannelKeyring, StickerApi } from '@courier/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { stillPng } from './support/sticker-images.ts';
import { checkScreen, signUpInBrowser } from './support/web-person.ts';
import { launchChromium } from './support/chromium.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

/**
 * Issue 16, channels in the web app (Chromium, a real server): an owner makes a public channel and
 * posts; a subscriber in another browser subscribes by @name (keyboard only), reads the posts live
 * under the "not end-to-end encrypted" notice, has no composer, sees an unread count while away,
 * and sees the owner's edit and deletion; a private channel is joined by invite link, a revoked link
 * is refused with the catalog's words; a post altered in the database shows as rejected and a
 * swapped channel key is said plainly. The screens pass axe at 360 and 1280 px.
 */
describe('channels in the web app (Chromium)', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-web-channels-'));
  const sqlitePath = join(dir, 'courier.db');
  let server: TestServer;
  let browser: Browser;
  const step = (what: string) => process.stderr.write(`[web-channels ${new Date().toISOString()}] ${what}\n`);
  /** Changes the server's database behind its back (what a compromised server could do). */
  const tamper = (sql: string, ...params: unknown[]) => {
    const db = new Database(sqlitePath);
    try {
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer({ storage: 'sqlite', sqlitePath });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (page: Page, screen: string) => checkScreen(page, screen, ARTIFACTS);
  const posts = (page: Page) => page.getByRole('log', { name: /^Posts of / });
  const post = (page: Page, text: string) => posts(page).locator('.channel-post').filter({ hasText: text });
  const openChannels = (page: Page) => page.locator('.channels-entry').click();

  it('public and private channels end to end: subscribe, live posts, edits, invites, rejected posts', async () => {
    const suffix = Date.now().toString(36).slice(-6);
    const [owner, reader] = await Promise.all([
      signUpInBrowser(browser, server, 'Olivia'),
      signUpInBrowser(browser, server, 'Sam'),
    ]);
    step('signed up');

    // The owner makes a public channel: this device makes its key, and gets the composer.
    await openChannels(owner.page);
    await owner.page.getByRole('heading', { name: 'Channels', exact: true, level: 2 }).waitFor();
    await owner.page.getByRole('button', { name: 'New channel' }).click();
    await owner.page.getByLabel(/^Name/).fill(`news_${suffix}`);
    await owner.page.getByLabel('Title').fill('Courier News');
    await owner.page.getByRole('button', { name: 'Create channel' }).click();
    await owner.page.getByRole('heading', { name: 'Courier News' }).waitFor();
    const composerNote = owner.page.locator('#composer-public-note');
    await composerNote.waitFor();
    expect(await composerNote.textContent()).toContain('not end-to-end encrypted');
    await owner.page.getByLabel('Post to the channel').fill('Hello, subscribers');
    await owner.page.getByLabel('Post to the channel').press('Enter');
    await post(owner.page, 'Hello, subscribers').waitFor();
    await owner.page.getByRole('button', { name: 'Manage' }).click();
    await owner.page.getByRole('heading', { name: `Manage @news_${suffix}` }).waitFor();
    const publicLink = await owner.page.getByLabel(/^Its public link/).inputValue();
    expect(publicLink).toBe(`${server.url}/#channel=news_${suffix}`);
    await check(owner.page, 'channel-owner');
    await owner.page.getByRole('button', { name: 'Manage' }).click();
    step('public channel made, first post');

    // The reader finds it by @name with the keyboard only, sees the preview, and subscribes.
    await reader.page.locator('.channels-entry').focus();
    await reader.page.keyboard.press('Enter');
    const find = reader.page.getByLabel('Find a channel by @name, or open an invite link');
    await find.focus();
    await reader.page.keyboard.type(`@news_${suffix}`);
    await reader.page.keyboard.press('Enter');
    await reader.page.getByRole('heading', { name: 'Courier News' }).waitFor();
    expect(await reader.page.locator('.channel-preview').textContent()).toContain('not end-to-end encrypted');
    await check(reader.page, 'channel-preview');
    await reader.page.getByRole('button', { name: 'Subscribe' }).focus();
    await reader.page.keyboard.press('Enter');
    await post(reader.page, 'Hello, subscribers').waitFor();
    expect(await reader.page.locator('#channel-notice').textContent()).toContain('not end-to-end encrypted');
    // Not an admin: no composer, no edit or delete.
    expect(await reader.page.getByLabel('Post to the channel').count()).toBe(0);
    expect(await reader.page.getByRole('button', { name: /^(Edit|Delete) post/ }).count()).toBe(0);
    step('subscribed by @name');

    // A new post arrives live; the view count includes the reader's read.
    await owner.page.getByLabel('Post to the channel').fill('Second post');
    await owner.page.getByRole('button', { name: 'Post', exact: true }).click();
    await post(reader.page, 'Second post').waitFor();
    await expect
      .poll(async () =>
        Number(
          (await post(reader.page, 'Hello, subscribers').locator('.views').textContent())?.match(/\d+/)?.[0],
        ),
      )
      .toBeGreaterThanOrEqual(1);
    await check(reader.page, 'channel-reader');

    // The owner edits one post and deletes the other: both change for the reader.
    await owner.page.getByRole('button', { name: 'Edit post: Second post' }).click();
    await owner.page.getByLabel('Edit the post').fill('Second post, corrected');
    await owner.page.getByRole('button', { name: 'Save' }).click();
    await post(reader.page, 'Second post, corrected').locator('.edited').waitFor();
    await owner.page.getByRole('button', { name: 'Delete post: Hello, subscribers' }).click();
    await owner.page.getByRole('button', { name: 'Delete for everyone' }).click();
    await post(reader.page, 'Hello, subscribers').waitFor({ state: 'detached' });
    expect(await posts(reader.page).locator('.channel-post').count()).toBe(1);
    step('edit and delete seen live');

    // Away from the channel, a new post shows as unread in the list; opening the channel reads it.
    await openChannels(reader.page);
    const row = reader.page
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Courier News/ });
    await row.waitFor();
    await owner.page.getByLabel('Post to the channel').fill('While you were away');
    await owner.page.getByLabel('Post to the channel').press('Enter');
    await row.filter({ hasText: '1 unread' }).waitFor();
    await reader.page.locator('.channels-entry').filter({ hasText: '1 unread posts' }).waitFor();
    await check(reader.page, 'channel-list');
    // Meanwhile the owner names the reader an admin: the channel key goes to the reader's device end to
    // end (test/web-channel-admin.test.ts follows it further), which then gets a composer.
    await owner.page.getByRole('button', { name: 'Manage' }).click();
    await owner.page.getByLabel('Username or phone number').fill(`@${reader.username}`);
    await owner.page.getByRole('button', { name: 'Make admin' }).click();
    await owner.page.getByText('Sam is an admin of').waitFor();
    await owner.page.getByRole('button', { name: 'Manage' }).click();
    await row.click();
    await post(reader.page, 'While you were away').waitFor();
    await reader.page.getByLabel('Post to the channel').waitFor();
    expect(await reader.page.locator('.no-key').count()).toBe(0);
    await openChannels(reader.page);
    await row.waitFor();
    await expect.poll(() => row.locator('.badge').count()).toBe(0);
    step('unread count');

    // A private channel: a revoked invite link is refused with the catalog's words, a live one admits.
    await openChannels(owner.page);
    await owner.page.getByRole('button', { name: 'New channel' }).click();
    await owner.page.getByLabel(/^Name/).fill(`inner_${suffix}`);
    await owner.page.getByLabel('Title').fill('Inner Circle');
    await owner.page.getByLabel(/^Description/).fill('Plans for the\nsummer fair');
    await owner.page.getByRole('radio', { name: /Private/ }).check();
    await owner.page.getByRole('button', { name: 'Create channel' }).click();
    await owner.page.getByRole('heading', { name: 'Inner Circle' }).waitFor();
    await owner.page.getByLabel('Post to the channel').fill('Members only');
    await owner.page.getByLabel('Post to the channel').press('Enter');
    await post(owner.page, 'Members only').waitFor();
    await owner.page.getByRole('button', { name: 'Manage' }).click();
    const linkField = owner.page.getByLabel(/^New invite link/);
    await owner.page.getByRole('button', { name: 'Make an invite link' }).click();
    const revoked = await linkField.inputValue();
    await owner.page.getByRole('button', { name: /^Revoke link/ }).click();
    await owner.page.locator('.invite-list li').filter({ hasText: 'revoked' }).waitFor();
    await owner.page.getByRole('button', { name: 'Make an invite link' }).click();
    await expect.poll(() => linkField.inputValue()).not.toBe(revoked);
    const live = await linkField.inputValue();
    expect(new URL(live).hash).toMatch(/^#channel-invite=[A-Za-z0-9_-]+$/);
    step('private channel and links made');

    // The private channel is invisible by name to an outsider.
    await reader.page.getByLabel('Find a channel by @name, or open an invite link').fill(`@inner_${suffix}`);
    await reader.page.getByRole('button', { name: 'Find' }).click();
    await reader.page.getByRole('alert').filter({ hasText: 'No such channel, or it is private' }).waitFor();
    // A revoked link shows no channel and nothing to join.
    await reader.page.goto(revoked);
    await reader.page.getByRole('heading', { name: 'Invitation to a channel' }).waitFor();
    await reader.page
      .getByRole('alert')
      .filter({ hasText: 'The invite link is unknown or was revoked.' })
      .waitFor({ timeout: 30_000 });
    expect(await reader.page.getByRole('button', { name: 'Join' }).isDisabled()).toBe(true);
    // A live link previews the private channel (title, name, subscribers, key) without joining it.
    await reader.page.goto(live);
    const preview = reader.page.locator('.channel-preview');
    await preview.getByRole('heading', { name: 'Inner Circle' }).waitFor({ timeout: 30_000 });
    expect(await preview.locator('.channel-facts').textContent()).toContain(`@inner_${suffix}`);
    expect(await preview.locator('.subscriber-count').textContent()).toBe('1');
    expect(await preview.locator('.channel-description').textContent()).toBe('Plans for the\nsummer fair');
    expect(await preview.locator('.fingerprint').textContent()).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
    await openChannels(reader.page);
    const mine = reader.page.getByRole('list', { name: 'Your channels' });
    await mine.getByText(/@/).first().waitFor({ timeout: 30_000 });
    expect(await mine.textContent()).not.toContain('Inner Circle');
    await reader.page.goto(live);
    await reader.page.getByRole('button', { name: 'Join' }).and(reader.page.locator(':enabled')).click();
    await post(reader.page, 'Members only').waitFor();
    await reader.page.getByRole('heading', { name: 'Inner Circle' }).waitFor();
    step('joined by invite link');

    // The server alters a stored post and then swaps the channel's key: the reader's app rejects the
    // altered post (not shown as the channel's) and says the key changed.
    await openChannels(reader.page);
    await reader.page.getByRole('list', { name: 'Your channels' }).waitFor();
    await owner.page.getByLabel('Post to the channel').fill('Genuine words');
    await owner.page.getByLabel('Post to the channel').press('Enter');
    await post(owner.page, 'Genuine words').waitFor();
    const postId = await post(owner.page, 'Genuine words').getAttribute('data-post-id');
    tamper(
      'UPDATE channel_posts SET payload = ? WHERE post_id = ?',
      Buffer.from('{"v":1,"type":"text","text":"Words the server made up","sentAtMs":1}'),
      postId,
    );
    const inner = reader.page
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Inner Circle/ });
    await inner.click();
    await posts(reader.page).locator('.channel-post.rejected').waitFor();
    expect(await posts(reader.page).textContent()).not.toContain('Words the server made up');
    expect(await posts(reader.page).textContent()).not.toContain('Genuine words');
    // The key is swapped, and a post signed by the new key is made (with the owner's session).
    const newKey = generateChannelKey();
    tamper(
      'UPDATE channels SET public_key = ? WHERE name = ?',
      Buffer.from(newKey.publicKey),
      `inner_${suffix}`,
    );
    const ownerHttp = new CourierHttp(server.url);
    ownerHttp.setToken(
      JSON.parse((await owner.page.evaluate(() => localStorage.getItem('courier-session'))) ?? '{}').token,
    );
    const innerId = (await ownerHttp.call<ChannelView>('GET', `/v1/channels/inner_${suffix}`)).channelId;
    const newKeyHolder = new ChannelClient(ownerHttp, new MemoryChannelKeyring());
    newKeyHolder.importSecretKey(innerId, newKey.secretKey);
    await newKeyHolder.post(innerId, {
      v: 1,
      type: 'text',
      text: 'Signed by the new key',
      sentAtMs: Date.now(),
    });
    await openChannels(reader.page);
    await inner.click();
    await reader.page.getByRole('alert').filter({ hasText: 'The key of this channel changed.' }).waitFor();
    await expect.poll(() => posts(reader.page).locator('.channel-post.rejected').count()).toBe(2);
    await check(reader.page, 'channel-rejected');
    // Having checked with the channel, the reader accepts the new key: the warning goes.
    await reader.page.getByRole('button', { name: 'I checked it: accept the new key' }).click();
    await reader.page.getByRole('alert').filter({ hasText: 'The key of this channel changed.' }).waitFor({
      state: 'detached',
    });
    // Until then the post signed by the new key was rejected; now it shows. The altered one stays rejected.
    await post(reader.page, 'Signed by the new key').waitFor();
    expect(await posts(reader.page).locator('.channel-post.rejected').count()).toBe(1);
    step('rejected post and key change shown');

    // Unsubscribing takes the channel off the reader's list.
    await reader.page.getByRole('button', { name: 'Unsubscribe' }).click();
    await reader.page.getByRole('button', { name: 'Unsubscribe' }).last().click();
    await reader.page.getByText('You unsubscribed from Inner Circle.').waitFor();
    await expect
      .poll(() =>
        reader.page.getByRole('list', { name: 'Your channels' }).getByRole('button').allTextContents(),
      )
      .toEqual([expect.stringContaining('Courier News')]);

    // Stickers from the picker: the owner adds a pack by its link (the page reloads: the channel key
    // is still in the worker's IndexedDB) and posts a sticker; the reader sees it.
    const maker = await server.register(nextPhone());
    const packs = new StickerApi(maker.http);
    await packs.createPack(`chan_${suffix}`, 'Channel pack');
    await packs.upload(`chan_${suffix}`, await stillPng(512, 512), 'image/png', '📣');
    await owner.page.goto(`${server.url}/addstickers/chan_${suffix}`);
    await owner.page.getByRole('button', { name: 'Add to my packs' }).click();
    await owner.page.getByText('This pack is in your packs.').waitFor();
    await openChannels(owner.page);
    await owner.page
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Courier News/ })
      .click();
    await owner.page.locator('.channel-composer').getByRole('button', { name: 'Stickers' }).click();
    await owner.page.getByRole('button', { name: 'Send sticker 📣 from Channel pack' }).click();
    await posts(owner.page).locator('img.sticker').waitFor();
    await reader.page
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Courier News/ })
      .click();
    await posts(reader.page).locator('img.sticker[alt="Sticker 📣"]').waitFor();
    step('sticker posted and seen');

    // Offline, a channel read before still opens, with its posts from this device.
    await reader.context.setOffline(true);
    await openChannels(reader.page);
    await reader.page
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Courier News/ })
      .click();
    await posts(reader.page).locator('img.sticker[alt="Sticker 📣"]').waitFor();
    await post(reader.page, 'While you were away').waitFor();
    await reader.context.setOffline(false);

    // The public link leads a subscriber to the preview, which offers to open the channel.
    await reader.page.goto(publicLink);
    await reader.page.getByRole('heading', { name: 'Courier News' }).waitFor();
    await reader.page.getByRole('button', { name: 'Open channel' }).click();
    await post(reader.page, 'While you were away').waitFor();

    // The channel key never reaches the page's storage: it lives in the worker's IndexedDB.
    const stored = await owner.page.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(stored).not.toMatch(/channel/i);
    const databases = await owner.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    expect(databases.some((name) => name?.startsWith('courier-channels-'))).toBe(true);
    await Promise.all([owner.context.close(), reader.context.close()]);
  });

  it('a long channel pages back as the person scrolls up, in order, an old post edited in its place', async () => {
    const suffix = Date.now().toString(36).slice(-6);
    // A channel of 130 posts made through the SDK (the third one edited later: its newest revision
    // moves to the channel's last position, and must still show third).
    const publisher = await server.register(nextPhone());
    const client = new ChannelClient(publisher.http, new MemoryChannelKeyring());
    const channel = await client.create(`long_${suffix}`, 'Long Read', 'public');
    const text = (words: string) => ({
      v: 1 as const,
      type: 'text' as const,
      text: words,
      sentAtMs: Date.now(),
    });
    const made = [];
    for (let n = 1; n <= 130; n++) made.push(await client.post(channel.channelId, text(`Post number ${n}.`)));
    await client.edit(channel.channelId, made[2]!.postId, 0, text('Post number 3, edited.'));

    const reader = await signUpInBrowser(browser, server, 'Paula');
    await openChannels(reader.page);
    await reader.page.getByLabel('Find a channel by @name, or open an invite link').fill(`@long_${suffix}`);
    await reader.page.getByRole('button', { name: 'Find' }).click();
    await reader.page.getByRole('button', { name: 'Subscribe' }).click();
    const texts = () => posts(reader.page).locator('.post-text').allTextContents();
    await post(reader.page, 'Post number 130.').waitFor();
    // The newest page only: the edited third post is held but not shown out of its place.
    expect(await texts()).toEqual(Array.from({ length: 50 }, (_, i) => `Post number ${i + 81}.`));
    // Scrolling to the top loads the page before.
    await posts(reader.page).evaluate((element) => {
      element.scrollTop = 0;
    });
    await expect.poll(async () => (await texts()).length).toBe(100);
    // The button does the same from the keyboard; the last page comes from the server.
    await reader.page.getByRole('button', { name: 'Load older posts' }).focus();
    await reader.page.keyboard.press('Enter');
    await expect.poll(async () => (await texts()).length).toBe(130);
    expect(await texts()).toEqual(
      Array.from({ length: 130 }, (_, i) => (i === 2 ? 'Post number 3, edited.' : `Post number ${i + 1}.`)),
    );
    expect(await reader.page.getByRole('button', { name: 'Load older posts' }).count()).toBe(0);
    await reader.context.close();
  });
});
