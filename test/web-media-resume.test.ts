import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mediaCiphertextSize } from '@courier/protocol';
import {
  ChannelClient,
  channelFileOf,
  DEFAULT_UPLOAD_REQUEST_BYTES,
  downloadDecryptedFile,
  MemoryChannelKeyring,
} from '@courier/sdk';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { ThrottleProxy } from './support/throttle-proxy.ts';
import {
  signUpInBrowser,
  signUpInContext,
  type WebPerson,
  acceptRequestInBrowser,
} from './support/web-person.ts';

const MiB = 1024 * 1024;

/**
 * Issue 14, "resume after a restart of either side", in the browser: a file being sent is kept on
 * the device (IndexedDB: the file, its key, the tus upload, the message) until its message is sent.
 * Alice (a persistent browser profile, behind a proxy that slows her uploads and counts the bytes
 * she sends) reloads the page in the middle of a 24 MiB upload: the worker asks the server how far
 * it got and sends only the rest (fewer than one request's bytes twice), and Bob downloads the same
 * bytes. Then she closes the browser in the middle of another upload, starts it again, sees that
 * upload going on in the chat and cancels it: the server deletes it and the device forgets it.
 * A file posted to a channel goes the same way: a reload mid-upload, the channel shows it going on,
 * and a subscriber gets the post once, with the same bytes.
 */
describe('web uploads resume after a reload or a browser restart', () => {
  let server: TestServer;
  let proxy: ThrottleProxy;
  let browser: Browser;
  let profile: string;
  let aliceContext: BrowserContext | undefined;
  let alice: WebPerson;
  let bob: WebPerson;
  const files = mkdtempSync(join(tmpdir(), 'courier-web-resume-'));

  const launchAlice = () =>
    chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu'],
      viewport: { width: 1280, height: 800 },
    });

  beforeAll(async () => {
    server = await startTestServer();
    proxy = new ThrottleProxy({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
    await proxy.start();
    browser = await launchChromium();
    profile = mkdtempSync(join(tmpdir(), 'courier-web-profile-'));
    aliceContext = await launchAlice();
    alice = await signUpInContext(aliceContext, { url: proxy.url, sms: server.sms }, 'Alice');
    bob = await signUpInBrowser(browser, server, 'Bob');
    // Alice writes to Bob; Bob accepts her message request, so both have the chat open.
    await alice.page.getByRole('button', { name: 'New chat' }).click();
    await alice.page.getByLabel('Username or phone number').fill(`@${bob.username}`);
    await alice.page.getByRole('button', { name: 'Open chat' }).click();
    await alice.page.getByRole('heading', { name: 'Bob', exact: true }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).and(alice.page.locator(':enabled')).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).fill('Files coming');
    await alice.page.getByLabel('Message', { exact: true }).press('Enter');
    await acceptRequestInBrowser(bob.page, 'Alice');
  }, 180_000);

  afterAll(async () => {
    await aliceContext?.close();
    await browser?.close();
    await proxy?.stop();
    await server?.close();
    rmSync(files, { recursive: true, force: true });
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const bar = (page: Page, name: string) => page.getByRole('progressbar', { name: `Uploading ${name}` });

  async function attach(page: Page, name: string, bytes: Buffer): Promise<void> {
    const path = join(files, name);
    writeFileSync(path, bytes);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: 'Attach file' }).and(page.locator(':enabled')).click(),
    ]);
    await chooser.setFiles(path);
  }

  /** Waits until the upload's bar shows more than `bytes` sent. */
  async function sentMoreThan(page: Page, name: string, bytes: number): Promise<void> {
    await bar(page, name).waitFor({ timeout: 30_000 });
    await expect
      .poll(() => bar(page, name).evaluate((p: HTMLProgressElement) => p.value), { timeout: 90_000 })
      .toBeGreaterThan(bytes);
  }

  /** The upload the server holds that was not there before. */
  async function newUpload(before: Set<string>): Promise<string> {
    let id: string | undefined;
    await expect
      .poll(
        async () => {
          id = (await server.app.media.blobs.list()).find((b) => !before.has(b));
          return id;
        },
        { timeout: 30_000 },
      )
      .toBeDefined();
    return id as string;
  }

  async function openChatWithBob(page: Page): Promise<void> {
    await page.getByRole('heading', { name: 'Chats', exact: true }).waitFor({ timeout: 30_000 });
    await page
      .getByRole('list', { name: 'Your chats' })
      .getByRole('button', { name: /Bob/ })
      .click({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Bob', exact: true }).waitFor();
  }

  /** The records the device keeps of pending uploads (IndexedDB, read in the page). */
  const pendingRecords = (page: Page) =>
    page.evaluate(async () => {
      const names = (await indexedDB.databases()).map((d) => d.name ?? '');
      let count = 0;
      for (const name of names.filter((n) => n.startsWith('courier-uploads-'))) {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const open = indexedDB.open(name);
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        count += await new Promise<number>((resolve, reject) => {
          const r = db.transaction('uploads').objectStore('uploads').count();
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        db.close();
      }
      return count;
    });

  it('a reload mid-upload goes on from the server offset; the other person gets identical bytes', async () => {
    const bytes = randomBytes(24 * MiB);
    const cipherSize = mediaCiphertextSize(bytes.length);
    const before = new Set(await server.app.media.blobs.list());
    proxy.upRate = 1_500_000;
    const sentBefore = proxy.upstreamBytes;
    await attach(alice.page, 'big.bin', bytes);
    // Past one whole request (8 MiB): starting over would send more than a request twice.
    await sentMoreThan(alice.page, 'big.bin', DEFAULT_UPLOAD_REQUEST_BYTES + 2 * MiB);
    const blobId = await newUpload(before);

    await alice.page.reload();
    const heldAtReload = (await server.app.media.blobs.storedBytes(blobId)) ?? 0;
    expect(heldAtReload).toBeGreaterThan(DEFAULT_UPLOAD_REQUEST_BYTES);
    await openChatWithBob(alice.page);
    // The chat shows the upload going on after the reload, and it moves.
    await sentMoreThan(alice.page, 'big.bin', heldAtReload);
    proxy.upRate = undefined;

    const file = bob.page.locator('.message.in .media.file').filter({ hasText: 'big.bin' });
    await file.waitFor({ timeout: 120_000 });
    await bar(alice.page, 'big.bin').waitFor({ state: 'detached', timeout: 30_000 });
    const sent = proxy.upstreamBytes - sentBefore;
    expect(sent).toBeGreaterThanOrEqual(cipherSize);
    // Only the request under way at the reload was sent again, and not even all of it.
    expect(sent - cipherSize).toBeLessThan(DEFAULT_UPLOAD_REQUEST_BYTES);
    expect(await server.app.media.blobs.storedBytes(blobId)).toBe(cipherSize);
    expect(await pendingRecords(alice.page)).toBe(0);

    const [download] = await Promise.all([
      bob.page.waitForEvent('download', { timeout: 120_000 }),
      file.getByRole('button', { name: 'Download big.bin' }).click(),
    ]);
    expect(readFileSync(await download.path()).equals(bytes)).toBe(true);
    // Exactly one message with the file at either end.
    expect(await bob.page.locator('.message').filter({ hasText: 'big.bin' }).count()).toBe(1);
    expect(await alice.page.locator('.message').filter({ hasText: 'big.bin' }).count()).toBe(1);
  }, 300_000);

  it('after a browser restart the upload shows in the chat and Cancel deletes it everywhere', async () => {
    const before = new Set(await server.app.media.blobs.list());
    // Slow enough that it cannot finish before it is cancelled, however loaded the machine (a finished
    // upload is no longer the uploader's to delete: retention removes it).
    proxy.upRate = 400_000;
    await attach(alice.page, 'second.bin', randomBytes(40 * MiB));
    await sentMoreThan(alice.page, 'second.bin', MiB);
    const blobId = await newUpload(before);

    // The browser closes (and with it the worker) and starts again on the same profile.
    await aliceContext?.close();
    aliceContext = await launchAlice();
    const page = aliceContext.pages()[0] ?? (await aliceContext.newPage());
    page.on('pageerror', (error) => process.stderr.write(`[Alice page error] ${error.message}\n`));
    await page.goto(proxy.url);
    await openChatWithBob(page);
    const held = (await server.app.media.blobs.storedBytes(blobId)) ?? 0;
    await sentMoreThan(page, 'second.bin', held);
    expect(await pendingRecords(page)).toBe(1);

    await page.getByRole('button', { name: 'Cancel upload of second.bin' }).click();
    await bar(page, 'second.bin').waitFor({ state: 'detached', timeout: 30_000 });
    proxy.upRate = undefined;
    // Deleted on the server (bytes and record) and on the device.
    await expect.poll(() => server.app.media.blobs.list(), { timeout: 30_000 }).not.toContain(blobId);
    await expect.poll(() => server.app.storage.mediaBlobs.byId(blobId), { timeout: 30_000 }).toBeUndefined();
    expect(await pendingRecords(page)).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);

    // A reload finds nothing to go on with; a text after it arrives, and the file never does.
    await page.reload();
    await openChatWithBob(page);
    await page
      .getByLabel('Message', { exact: true })
      .and(page.locator(':enabled'))
      .waitFor({ timeout: 30_000 });
    await page.getByLabel('Message', { exact: true }).fill('Never mind');
    await page.getByLabel('Message', { exact: true }).press('Enter');
    await bob.page.locator('.message.in').filter({ hasText: 'Never mind' }).waitFor({ timeout: 30_000 });
    expect(await bar(page, 'second.bin').count()).toBe(0);
    expect(await bob.page.locator('.message').filter({ hasText: 'second.bin' }).count()).toBe(0);
    expect(await server.app.media.blobs.list()).not.toContain(blobId);
  }, 300_000);

  it('a channel post with a file goes on after a reload and is posted once', async () => {
    const page = aliceContext?.pages()[0] as Page;
    const suffix = Date.now().toString(36).slice(-6);
    const title = `Files ${suffix}`;
    const openChannel = async () => {
      await page.locator('.channels-entry').click({ timeout: 30_000 });
      await page
        .getByRole('list', { name: 'Your channels' })
        .getByRole('button', { name: new RegExp(title) })
        .click({ timeout: 30_000 });
      await page.getByRole('heading', { name: title }).waitFor();
    };
    await page.locator('.channels-entry').click({ timeout: 30_000 });
    await page.getByRole('button', { name: 'New channel' }).click();
    await page.getByLabel(/^Name/).fill(`files_${suffix}`);
    await page.getByLabel('Title').fill(title);
    await page.getByRole('button', { name: 'Create channel' }).click();
    await page.getByRole('heading', { name: title }).waitFor();
    // A subscriber on the SDK, which checks each post's signature.
    const carol = await server.register(nextPhone());
    const reader = new ChannelClient(carol.http, new MemoryChannelKeyring());
    const channel = await reader.subscribe({ name: `files_${suffix}` });

    const bytes = randomBytes(24 * MiB);
    const cipherSize = mediaCiphertextSize(bytes.length);
    const before = new Set(await server.app.media.blobs.list());
    proxy.upRate = 1_500_000;
    const sentBefore = proxy.upstreamBytes;
    await attach(page, 'post.bin', bytes);
    await sentMoreThan(page, 'post.bin', DEFAULT_UPLOAD_REQUEST_BYTES + 2 * MiB);
    const blobId = await newUpload(before);

    await page.reload();
    const heldAtReload = (await server.app.media.blobs.storedBytes(blobId)) ?? 0;
    expect(heldAtReload).toBeGreaterThan(DEFAULT_UPLOAD_REQUEST_BYTES);
    await openChannel();
    // The channel shows the upload going on after the reload, with Cancel, and it moves.
    await page.getByRole('button', { name: 'Cancel upload of post.bin' }).waitFor({ timeout: 30_000 });
    await sentMoreThan(page, 'post.bin', heldAtReload);
    proxy.upRate = undefined;

    const mine = page.locator('.channel-post').filter({ hasText: 'post.bin' });
    await mine.first().waitFor({ timeout: 120_000 });
    await bar(page, 'post.bin').waitFor({ state: 'detached', timeout: 30_000 });
    const sent = proxy.upstreamBytes - sentBefore;
    expect(sent).toBeGreaterThanOrEqual(cipherSize);
    // Only the request under way at the reload was sent again, and not even all of it.
    expect(sent - cipherSize).toBeLessThan(DEFAULT_UPLOAD_REQUEST_BYTES);
    expect(await server.app.media.blobs.storedBytes(blobId)).toBe(cipherSize);
    expect(await pendingRecords(page)).toBe(0);

    // The subscriber gets one post with the file, and the same bytes.
    const posts = (await reader.posts(channel.channelId, 0)).posts;
    const files = posts.map((p) => channelFileOf(p)).filter((f) => f?.name === 'post.bin');
    expect(files).toHaveLength(1);
    expect(files[0]?.blobId).toBe(blobId);
    const parts: Uint8Array[] = [];
    for await (const part of downloadDecryptedFile({ baseUrl: server.url, token: carol.token }, files[0]!))
      parts.push(part);
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    expect(await mine.count()).toBe(1);
  }, 300_000);
});
