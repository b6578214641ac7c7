import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';
import { screenChecker, signUpInBrowser } from './support/web-person.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');
const OTHERS = 4_999;
/** Sign-ups at once: enough to keep the in-process server busy, few enough for 2 cores. */
const PARALLEL = 8;

/**
 * Issue 13: a person with a 5,000-member group scrolls its member list in the real app. 4,999
 * accounts are registered through the server's API (phone and code; no MLS devices: the roster is the
 * server's), each names itself and lets anyone add it to groups; one of them creates a group of 5,000
 * with the browser person in it. The person's chat waits for an MLS Welcome that never comes; its
 * group info lists the roster, virtualised, and asks names only for the rows in view.
 */
describe('a 5,000-member group’s member list (Chromium)', () => {
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

  it('opens group info at 5,000 members, renders a few rows, names the last ones after scrolling by keyboard', async () => {
    const check = screenChecker(ARTIFACTS);
    const started = Date.now();
    const phase = (what: string) =>
      process.stderr.write(`[group-5000] ${what} at ${Date.now() - started} ms\n`);
    const pat = await signUpInBrowser(browser, server, 'Pat');

    const users: TestUser[] = new Array(OTHERS);
    const nameOf = new Map<string, string>();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < OTHERS) {
          const i = next++;
          const user = await server.register(nextPhone());
          const name = `Member ${String(i + 1).padStart(4, '0')}`;
          await user.http.setDisplayName(name);
          expect((await user.http.updatePrivacySettings({ groupAdd: 'everybody' })).groupAdd).toBe(
            'everybody',
          );
          users[i] = user;
          nameOf.set(user.accountId, name);
        }
      }),
    );
    const owner = users[0]!;
    const patId = (await owner.http.lookup({ username: pat.username })).accountId;
    nameOf.set(patId, 'You');
    const group = await owner.http.createGroup('Five thousand', [
      ...users.slice(1).map((u) => u.accountId),
      patId,
    ]);
    expect(group.members).toHaveLength(5_000);
    phase('4,999 accounts and the group made');
    const roster = (await owner.http.group(group.groupId)).members.map((m) => nameOf.get(m.accountId));

    // Count the person's lookups of people from here on (the worker's requests included).
    let lookups = 0;
    pat.context.on('request', (request) => {
      if (request.url().includes('/v1/users/lookup')) lookups += 1;
    });

    const page = pat.page;
    await page
      .getByRole('list', { name: 'Your chats' })
      .getByRole('button', { name: /Five thousand/ })
      .click({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Five thousand', exact: true }).waitFor();
    // The chat's notice of its creation names a few people and counts the rest (a handful of lookups).
    await page
      .locator('.notice')
      .filter({ hasText: /^Member 0001 created the chat “Five thousand” with (.+, ){4}.+ and 4,994 others/ })
      .waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Chat info' }).click();
    await page.getByText(/^5,000 members\. Your role: Member\./).waitFor({ timeout: 60_000 });

    phase(`group info open (${lookups} lookups so far)`);
    const members = page.getByRole('list', { name: 'Members' });
    const rows = members.getByRole('listitem');
    // The first rows in view get their names (the person's own row is "You").
    await members.getByText(roster[1]!, { exact: true }).waitFor({ timeout: 60_000 });
    await expect.poll(() => members.getByText('Loading name…').count(), { timeout: 60_000 }).toBe(0);
    const rendered = await rows.count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    expect(await rows.first().getAttribute('aria-setsize')).toBe('5000');
    await check(page, 'group-5000-info');

    // Keyboard alone: Tab from the heading reaches the list (a member's rows hold no buttons), End
    // scrolls it to the last member.
    await page.getByRole('heading', { name: /Five thousand — group info/ }).focus();
    const box = page.locator('.virtual.members');
    for (let i = 0; i < 10 && !(await box.evaluate((el) => el === document.activeElement)); i++)
      await page.keyboard.press('Tab');
    expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('End');
    for (const name of roster.slice(-3))
      await members.getByText(name!, { exact: true }).waitFor({ timeout: 60_000 });
    await expect.poll(() => members.getByText('Loading name…').count(), { timeout: 60_000 }).toBe(0);
    expect(await rows.last().getAttribute('aria-posinset')).toBe('5000');
    expect(await rows.count()).toBeLessThan(60);
    await check(page, 'group-5000-info-end');

    phase(`scrolled to the end (${lookups} lookups)`);
    // Names were asked for the rows shown, never for the whole roster.
    expect(lookups).toBeGreaterThan(0);
    expect(lookups).toBeLessThan(100);
    await pat.context.close();
  }, 600_000);
});
