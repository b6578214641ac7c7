/**
 * The desk's moderation queue in Debian's Chromium (issue 12): a report arrives, moderator A reads
 * exactly what was forwarded and proposes a suspension, A cannot approve it alone, moderator B
 * approves, and the reported account is refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CourierError } from '@courier/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from './support/axe.ts';
import { addStaff, deskPageLogin } from './support/desk-staff.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { launchChromium } from './support/chromium.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS
  ? join(process.env.COURIER_SCREENSHOTS, 'desk')
  : join(process.cwd(), 'artifacts/desk');

describe('the moderation queue of the desk web app (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let secrets: Map<string, string>;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    secrets = await addStaff(server, [
      ['mod.a', ['moderator']],
      ['mod.b', ['moderator']],
      ['approver.x', ['approver']],
    ]);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const login = (username: string): Promise<Page> =>
    deskPageLogin(browser, server.url, username, secrets.get(username)!);

  it('takes a report to a two-moderator suspension, and the account is refused', async () => {
    const reporter = await server.register(nextPhone());
    const reported = await server.register(nextPhone());
    const chat = await reporter.http.openDirect(reported.accountId);
    // Text that would run as HTML if the page ever inserted it as markup.
    const text = `<img src=x onerror="document.title='pwned'"> ${randomBytes(4).toString('hex')}`;
    const { reportId } = await reporter.http.fileReport({
      chatId: chat.groupId,
      reason: 'abuse',
      comment: 'please look',
      messages: [{ senderAccountId: reported.accountId, sentAtMs: Date.UTC(2026, 0, 2, 3, 4), text }],
    });

    // Legal-desk staff do not see the queue.
    const approver = await login('approver.x');
    expect(await approver.isHidden('#moderation-section')).toBe(true);

    const a = await login('mod.a');
    expect(await a.isHidden('#legal-section')).toBe(true);
    const reportRow = `tr[data-report="${reportId}"]`;
    await expect.poll(() => a.textContent(reportRow)).toMatch(/abuse/);
    await a.click(`${reportRow} button:has-text("Read")`);
    await expect.poll(() => a.textContent('#report-messages')).toContain(text);
    expect(await a.textContent('#report-comment')).toBe('please look');
    expect(await a.title()).not.toBe('pwned');

    await a.click(`${reportRow} button:has-text("Propose suspension")`);
    const suspensionRow = `tr[data-account="${reported.accountId}"]`;
    await expect.poll(() => a.textContent(suspensionRow)).toMatch(/proposed/);
    // A alone cannot suspend: the typed error is shown, the state stays proposed.
    await a.click(`${suspensionRow} button:has-text("Approve suspension")`);
    await expect.poll(() => a.textContent('#error')).toMatch(/MODERATION_SAME_STAFF/);
    expect(await server.app.moderation.isSuspended(reported.accountId)).toBe(false);

    const b = await login('mod.b');
    await b.click(`${suspensionRow} button:has-text("Approve suspension")`);
    await expect.poll(() => b.textContent(suspensionRow)).toMatch(/suspended/);
    await expect.poll(() => b.textContent(reportRow)).toMatch(/suspended/);
    // The screen passes axe at both widths, does not scroll sideways at 360 px, and is saved.
    await b.click(`${reportRow} button:has-text("Read")`);
    await b.waitForSelector('#report-detail');
    for (const width of [360, 1280]) {
      await b.setViewportSize({ width, height: 900 });
      expect(await seriousViolations(b), `moderation at ${width} px`).toEqual([]);
      if (width === 360)
        expect(await b.evaluate(() => document.documentElement.scrollWidth - innerWidth)).toBeLessThanOrEqual(
          0,
        );
      await b.screenshot({ path: join(ARTIFACTS, `moderation-${width}.png`), fullPage: true });
    }

    const refused = await reported.http.call('GET', '/v1/me').then(
      () => 'accepted',
      (error: CourierError) => error.code,
    );
    expect(refused).toBe('ACCOUNT_SUSPENDED');
    await expect(server.login(reported.phone)).rejects.toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
  });
});
