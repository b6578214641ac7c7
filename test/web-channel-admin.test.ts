import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/harness.ts';
import { stillPng } from './support/sticker-images.ts';
import { checkScreen, signUpInBrowser } from './support/web-person.ts';
import { launchChromium } from './support/chromium.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

/**
 * Issue 16, running a channel with admins in the web app (Chromium, a real server, real MLS): the
 * owner names an admin in the Manage panel, which hands the channel key over end to end; the admin's
 * browser imports it (and says so), gets a composer, and posts a photo; a subscriber sees the photo's
 * preview, which travels in the signed post, and opens the full photo in the viewer (downloaded and
 * decrypted with the key in the post). The composer says attached files are readable by anyone who
 * can read the channel. The new screens pass axe at 360 and 1280 px.
 */
describe('channel admins and media posts in the web app (Chromium)', { timeout: 300_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  const step = (what: string) =>
    process.stderr.write(`[web-channel-admin ${new Date().toISOString()}] ${what}\n`);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer({ storage: 'sqlite' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const check = (page: Page, screen: string) => checkScreen(page, screen, ARTIFACTS);
  const posts = (page: Page) => page.getByRole('log', { name: /^Posts of / });
  /** Signs an existing account in on a new browser (a new device of it). */
  const signInAgain = async (phone: string) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByLabel('Phone number', { exact: true }).fill(phone);
    await page.getByRole('button', { name: 'Send code' }).click();
    await page.locator('#code-sent').waitFor();
    await page.getByLabel('Code from the text message').fill(server.sms.lastCode(phone));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    return { context, page };
  };

  it('the owner names an admin, the key reaches the admin’s browser, the admin posts a photo, a subscriber opens it', async () => {
    const suffix = Date.now().toString(36).slice(-6);
    const name = `desk_${suffix}`;
    const [owner, admin, reader] = await Promise.all([
      signUpInBrowser(browser, server, 'Olivia'),
      signUpInBrowser(browser, server, 'Ada'),
      signUpInBrowser(browser, server, 'Sam'),
    ]);
    step('signed up');

    // The owner makes a public channel on this device (which makes its key).
    await owner.page.locator('.channels-entry').click();
    await owner.page.getByRole('button', { name: 'New channel' }).click();
    await owner.page.getByLabel(/^Name/).fill(name);
    await owner.page.getByLabel('Title').fill('Help Desk');
    await owner.page.getByRole('button', { name: 'Create channel' }).click();
    await owner.page.getByRole('heading', { name: 'Help Desk' }).waitFor();
    await owner.page.getByLabel('Post to the channel').waitFor();

    // The reader subscribes by the public link.
    await reader.page.goto(`${server.url}/#channel=${name}`);
    await reader.page.getByRole('button', { name: 'Subscribe' }).click();
    await posts(reader.page).waitFor();
    step('channel made, reader subscribed');

    // Before being named, the admin-to-be has no such channel and no key.
    // The owner names Ada an admin: the key goes to her devices end to end.
    await owner.page.getByRole('button', { name: 'Manage' }).click();
    await owner.page.getByLabel('Username or phone number').fill(`@${admin.username}`);
    await owner.page.getByRole('button', { name: 'Make admin' }).click();
    await owner.page.getByText('Ada is an admin of').waitFor();
    expect(await owner.page.locator('.channel-manage').textContent()).toContain(
      'went to their devices end to end',
    );
    // The Manage panel lists who runs the channel, by name and @username, never a phone number.
    const ownerList = owner.page.getByRole('list', { name: 'Owner and admins' });
    await ownerList.locator('li').filter({ hasText: 'Ada' }).waitFor({ timeout: 30_000 });
    const listed = await ownerList.locator('li').allTextContents();
    expect(listed).toHaveLength(2);
    expect(listed[0]).toContain('Olivia');
    expect(listed[0]).toContain('owner · you');
    expect(listed[1]).toContain(`@${admin.username}`);
    expect(listed[1]).toContain('admin since');
    // (Usernames here end in the phone's last digits: the whole number is what must never show.)
    for (const person of [owner, admin]) expect(listed.join(' ')).not.toContain(person.phone.slice(1, -2));
    expect(await ownerList.getByRole('button', { name: /^Remove .* as admin$/ }).count()).toBe(1);
    await check(owner.page, 'channel-manage-admins');
    step('admin named and listed');

    // Ada's browser checks the key (sender is the owner, she is an admin, the key is the channel's),
    // keeps it in the worker's IndexedDB and says so.
    await admin.page
      .getByRole('status')
      .filter({ hasText: `Channel key received for @${name}` })
      .waitFor({ timeout: 60_000 });
    await admin.page.locator('.channels-entry').click();
    await admin.page
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Help Desk/ })
      .click();
    await admin.page.getByRole('heading', { name: 'Help Desk' }).waitFor();
    await admin.page.getByLabel('Post to the channel').waitFor();
    expect(await admin.page.locator('.no-key').count()).toBe(0);
    const note = await admin.page.locator('#composer-public-note').textContent();
    expect(note).toContain('not end-to-end encrypted');
    expect(note).toContain('Attached files are readable by anyone who can read the channel');
    // Ada, an admin, sees the same list in her Manage panel, without Remove buttons (the owner's).
    await admin.page.getByRole('button', { name: 'Manage' }).click();
    const adaList = admin.page.getByRole('list', { name: 'Owner and admins' });
    await adaList.locator('li').filter({ hasText: 'admin since' }).waitFor({ timeout: 30_000 });
    expect(await adaList.locator('li').first().textContent()).toContain('Olivia');
    expect(await adaList.locator('li').nth(1).textContent()).toContain('· you');
    expect(await adaList.getByRole('button').count()).toBe(0);
    await admin.page.getByRole('button', { name: 'Manage' }).click();
    step('admin holds the key');

    // Ada, as an admin, gives the channel a new title and description in her Manage panel; a title
    // of spaces only is refused first (the button stays off), then the edit is saved and shown.
    await admin.page.getByRole('button', { name: 'Manage' }).click();
    const titleField = admin.page.getByLabel('Title', { exact: true });
    const save = admin.page.getByRole('button', { name: 'Save', exact: true });
    expect(await titleField.inputValue()).toBe('Help Desk');
    await titleField.fill('   ');
    expect(await save.isDisabled()).toBe(true);
    await titleField.fill('Help Desk Weekly');
    await admin.page.getByLabel('Description (optional)').fill('Answers every Friday');
    await save.click();
    await admin.page.getByText('Saved the title and description').waitFor();
    await admin.page.getByRole('heading', { name: 'Help Desk Weekly' }).waitFor();
    expect(await admin.page.locator('.channel-description').textContent()).toBe('Answers every Friday');
    await admin.page.getByRole('button', { name: 'Manage' }).click();
    // Sam, a subscriber, sees them the next time he reads the channel (his list, then the channel).
    await reader.page.locator('.channels-entry').click();
    await reader.page
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Help Desk Weekly/ })
      .click();
    await reader.page.getByRole('heading', { name: 'Help Desk Weekly' }).waitFor();
    expect(await reader.page.locator('.channel-description').textContent()).toBe('Answers every Friday');
    await posts(reader.page).waitFor();
    step('admin edited the title and description; the subscriber sees them');

    // Ada posts a photo (the picker of the composer; a preview is made on her page).
    const photo = await stillPng(1000, 600);
    await admin.page
      .getByLabel('Files to post')
      .setInputFiles({ name: 'harbour.png', mimeType: 'image/png', buffer: photo });
    const mine = posts(admin.page).locator('.channel-post .media.photo');
    await mine.getByRole('img', { name: 'Photo: harbour.png' }).waitFor();
    await check(admin.page, 'channel-admin-composer');
    step('admin posted a photo');

    // Sam sees the preview from inside the signed post (nothing downloaded yet), then opens the photo.
    const seen = posts(reader.page).locator('.channel-post .media.photo');
    await seen.getByRole('img', { name: 'Photo: harbour.png' }).waitFor();
    const thumb = await seen.locator('img').evaluate((img: HTMLImageElement) => ({
      src: img.src,
      width: img.naturalWidth,
    }));
    expect(thumb.src.startsWith('blob:')).toBe(true);
    expect(thumb.width).toBeGreaterThan(0);
    expect(thumb.width).toBeLessThan(1000);
    await seen.getByRole('button', { name: /Open photo harbour\.png/ }).click();
    const viewer = reader.page.getByRole('dialog', { name: 'Photo: harbour.png' });
    await viewer.locator('img[data-full="true"]').waitFor();
    expect(
      await viewer
        .locator('img[data-full="true"]')
        .evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]),
    ).toEqual([1000, 600]);
    await check(reader.page, 'channel-photo-viewer');
    await reader.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    // A subscriber has no composer and no file picker.
    expect(await reader.page.getByLabel('Files to post').count()).toBe(0);
    step('subscriber opened the photo');

    // A file by the Attach button: Sam downloads it (decrypted with the key in the signed post) and
    // gets the same bytes.
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(150_000)]);
    const [chooser] = await Promise.all([
      admin.page.waitForEvent('filechooser'),
      admin.page.getByRole('button', { name: 'Attach file' }).click(),
    ]);
    await chooser.setFiles({ name: 'rota.pdf', mimeType: 'application/pdf', buffer: pdf });
    const sent = posts(reader.page).locator('.channel-post .media.file').filter({ hasText: 'rota.pdf' });
    await sent.waitFor();
    const [download] = await Promise.all([
      reader.page.waitForEvent('download'),
      sent.getByRole('button', { name: 'Download rota.pdf' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('rota.pdf');
    expect(readFileSync(await download.path()).equals(pdf)).toBe(true);
    step('subscriber downloaded a file');

    // Ada signs in on a second browser (a new device, added since the key went): it holds no key,
    // has no composer and says to ask the owner; the owner sends the key again, and it arrives.
    const { context: second, page: tablet } = await signInAgain(admin.phone);
    await tablet.locator('.channels-entry').click();
    await tablet
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Help Desk/ })
      .click();
    await tablet.getByText('Ask the owner to send the key again').waitFor();
    expect(await tablet.getByLabel('Post to the channel').count()).toBe(0);
    await check(tablet, 'channel-admin-no-key');
    await owner.page.getByLabel('Username or phone number').fill(`@${admin.username}`);
    await owner.page.getByRole('button', { name: 'Send key again' }).click();
    await owner.page.getByText("The channel's key went to Ada again").waitFor();
    await tablet
      .getByRole('status')
      .filter({ hasText: `Channel key received for @${name}` })
      .waitFor();
    await tablet.getByLabel('Post to the channel').waitFor();
    expect(await tablet.getByText('Ask the owner to send the key again').count()).toBe(0);
    step('the key sent again reached the admin’s new device');

    // The owner takes the role back: the server refuses Ada's posts though her devices keep the key.
    await ownerList.getByRole('button', { name: 'Remove Ada as admin' }).click();
    await owner.page.getByText('Ada is no longer an admin').waitFor();
    await expect.poll(() => ownerList.locator('li').count(), { timeout: 30_000 }).toBe(1);
    await admin.page.getByLabel('Post to the channel').fill('Still here?');
    await admin.page.getByRole('button', { name: 'Post', exact: true }).click();
    await admin.page
      .getByRole('alert')
      .filter({ hasText: "Only the channel's owner and admins may do this." })
      .waitFor();
    expect(await posts(reader.page).locator('.channel-post').filter({ hasText: 'Still here?' }).count()).toBe(
      0,
    );
    // Her view is asked again: she is a subscriber now, without a composer.
    await admin.page.getByLabel('Post to the channel').waitFor({ state: 'detached' });
    await admin.page.getByRole('button', { name: 'Unsubscribe' }).waitFor();
    await second.close();

    for (const person of [owner, admin, reader]) await person.context.close();
  });

  it('a channel made in the browser shares its key with the owner’s other devices', async () => {
    const suffix = Date.now().toString(36).slice(-6);
    const owner = await signUpInBrowser(browser, server, 'Omar');
    const laptop = await signInAgain(owner.phone);
    await owner.page.locator('.channels-entry').click();
    await owner.page.getByRole('button', { name: 'New channel' }).click();
    await owner.page.getByLabel(/^Name/).fill(`shared_${suffix}`);
    await owner.page.getByLabel('Title').fill('Shared Keys');
    await owner.page.getByRole('button', { name: 'Create channel' }).click();
    await owner.page.getByRole('heading', { name: 'Shared Keys' }).waitFor();
    // The other device gets the key end to end (a chat of the owner alone) and may post.
    await laptop.page
      .getByRole('status')
      .filter({ hasText: `Channel key received for @shared_${suffix}` })
      .waitFor({ timeout: 60_000 });
    await laptop.page.locator('.channels-entry').click();
    await laptop.page
      .getByRole('list', { name: 'Your channels' })
      .getByRole('button', { name: /Shared Keys/ })
      .click();
    await laptop.page.getByLabel('Post to the channel').fill('From the laptop');
    await laptop.page.getByLabel('Post to the channel').press('Enter');
    await posts(owner.page).locator('.channel-post').filter({ hasText: 'From the laptop' }).waitFor();
    await laptop.context.close();
    await owner.context.close();
  });
});
