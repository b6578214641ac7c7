import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RECEIPT_MAX_DEVICES, receiptsOffText } from '@courier/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { preparedDevices, type SecureDevice, secureDevice } from './support/secure.ts';
import { checkScreen, signUpInBrowser } from './support/web-person.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

/**
 * A group of more devices than receipts are sent in (issue 15): the web app's chat says plainly that
 * receipts are off there, its sent messages stay "Sent" (no ticks that never come), and group info
 * says the same. The group: an SDK device adds the web person and 99 others (their key packages
 * published, never started), 101 devices.
 */
describe('receipts off in a large group (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  const devices: SecureDevice[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const d of devices) await d.client.stop().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  it('says "Receipts are off in groups of more than 100 devices" in the chat and group info; sent stays Sent', async () => {
    const bob = await signUpInBrowser(browser, server, 'Bob');
    const alice = await secureDevice(server, await server.register(nextPhone()));
    devices.push(alice);
    const bobId = (await alice.user.http.lookup({ username: bob.username })).accountId;
    // 99 more people with key packages published (prepared, not connected).
    const prepared = await preparedDevices(server, RECEIPT_MAX_DEVICES - 1);
    devices.push(...prepared);
    const others = prepared.map((d) => d.user.accountId);
    const crowd = await alice.client.createGroup('Crowd', [bobId, ...others]);
    expect(await alice.client.receiptsInChat(crowd.groupId)).toMatchObject({
      on: false,
      reason: 'large_group',
      devices: RECEIPT_MAX_DEVICES + 1,
    });
    await alice.client.sendText(crowd.groupId, 'hello everyone');

    const page = bob.page;
    await page.getByRole('list', { name: 'Your chats' }).getByRole('button', { name: /Crowd/ }).click();
    await page.getByRole('heading', { name: 'Crowd', exact: true }).waitFor();
    await page.locator('.message.in .text', { hasText: 'hello everyone' }).waitFor({ timeout: 60_000 });
    const notice = page.getByRole('status').filter({ hasText: receiptsOffText(RECEIPT_MAX_DEVICES) });
    await notice.waitFor({ timeout: 60_000 });
    expect(receiptsOffText(RECEIPT_MAX_DEVICES)).toBe('Receipts are off in groups of more than 100 devices');

    await page.getByLabel('Message', { exact: true }).fill('hi all');
    await page.getByLabel('Message', { exact: true }).press('Enter');
    const mine = page.locator('.message.out').filter({ hasText: 'hi all' }).locator('[data-state]');
    await expect.poll(() => mine.getAttribute('data-state'), { timeout: 60_000 }).toBe('stored');
    expect(await mine.textContent()).toContain('Sent (no receipts in this group)');
    await alice.waitFor(crowd.groupId, 1, 60_000);
    await checkScreen(page, 'chat-receipts-off', ARTIFACTS);

    await page.getByRole('button', { name: 'Chat info' }).click();
    await page.locator('[data-receipts="off"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-receipts="off"]').textContent()).toContain(
      'Receipts are off in groups of more than 100 devices',
    );
    await checkScreen(page, 'group-info-receipts-off', ARTIFACTS);
    await bob.context.close();
  });
});
