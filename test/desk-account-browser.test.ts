/**
 * Issue 13, the desk in Debian's Chromium against a real server: a staff member changes their own
 * authenticator key (a new QR code, confirmed by a code from the new key) and password on the
 * "Your account" screen, logs out and logs in with the new ones while the old key and the old
 * password are refused; then declines a case from its detail. axe (no serious or critical
 * violation) and no sideways scrolling at 360 px on each new screen, with screenshots
 * (artifacts/desk, or $COURIER_SCREENSHOTS/desk).
 *
 * The server runs on a clock the test moves: a one-time code counts once, so each step takes a time
 * step of its own instead of waiting 30 seconds.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qrPath } from '../packages/desk/src/qr.ts';
import { seriousViolations } from './support/axe.ts';
import { addStaff, DESK_PASSWORD, totpCode } from './support/desk-staff.ts';
import { startTestServer, type TestServer, unsafeTestingClock } from './support/harness.ts';
import { launchChromium } from './support/chromium.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS
  ? join(process.env.COURIER_SCREENSHOTS, 'desk')
  : join(process.cwd(), 'artifacts/desk');
const NEW_PASSWORD = 'a brand new desk passphrase';
const REASON = 'The order names the wrong court; asked the authority to refile.';

describe('the desk account screen and declining a case (Chromium)', () => {
  const clock = new unsafeTestingClock(Date.now());
  let server: TestServer;
  let browser: Browser | undefined;
  let secrets: Map<string, string>;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer({ clock });
    secrets = await addStaff(server, [
      ['reviewer.one', ['reviewer']],
      ['intake.one', ['intake']],
    ]);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 120_000);

  /** A code of `secret` in a time step no earlier code used. */
  const freshCode = (secret: string) => {
    clock.advance(30_000);
    return totpCode(secret, clock.now());
  };

  async function check(page: Page, name: string, ready: string): Promise<void> {
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForSelector(ready);
      expect(await seriousViolations(page), `${name} at ${width} px`).toEqual([]);
      if (width === 360) {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
        expect(overflow, `${name} scrolls sideways at 360 px`).toBeLessThanOrEqual(0);
      }
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
    }
  }

  /** Fills in and sends the login form; returns the status of the server's reply. */
  async function fillLogin(page: Page, password: string, code: string): Promise<number> {
    await page.fill('[name=username]', 'reviewer.one');
    await page.fill('[name=password]', password);
    await page.fill('[name=code]', code);
    const [reply] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/desk/v1/login')),
      page.click('#login-form button'),
    ]);
    return reply.status();
  }
  const apiLogin = async (password: string, code: string) =>
    fetch(`${server.url}/desk/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'reviewer.one', password, code }),
    });

  it('changes the key and the password, logs in with the new ones only, and declines a case', async () => {
    const oldSecret = secrets.get('reviewer.one')!;
    const page = await (await browser!.newContext()).newPage();
    await page.goto(`${server.url}/desk`);
    await fillLogin(page, DESK_PASSWORD, freshCode(oldSecret));
    await page.waitForSelector('#desk-view');
    await page.click('a[data-tab=account]');
    await page.waitForSelector('#totp-form');
    await check(page, 'account', '#totp-form');

    // A wrong password is refused with the catalog's error; no new key is made.
    await page.fill('#totp-form [name=password]', 'not my password');
    await page.fill('#totp-current-code', freshCode(oldSecret));
    await page.click('#totp-form button[type=submit]');
    await expect.poll(() => page.textContent('#error')).toMatch(/DESK_CREDENTIALS_WRONG/);
    expect(await page.isVisible('#account-totp-qr')).toBe(false);

    await page.fill('#totp-form [name=password]', DESK_PASSWORD);
    await page.fill('#totp-current-code', freshCode(oldSecret));
    await page.click('#totp-form button[type=submit]');
    await page.waitForSelector('#account-totp-qr');
    const newSecret = (await page.textContent('#account-totp-secret'))!.replace(/\s/g, '');
    expect(newSecret).not.toBe(oldSecret);
    const uri = new TOTP({
      issuer: 'Courier desk',
      label: 'reviewer.one',
      period: 30,
      secret: Secret.fromBase32(newSecret),
    }).toString();
    expect(await page.getAttribute('#account-totp-qr path', 'd')).toBe(qrPath(uri).d);
    await check(page, 'account-new-key', '#account-totp-qr');

    // Until confirmed the old key logs in (this second session ends with the password change below).
    expect((await apiLogin(DESK_PASSWORD, freshCode(newSecret))).status).toBe(401);
    const elsewhere = await apiLogin(DESK_PASSWORD, freshCode(oldSecret));
    expect(elsewhere.status).toBe(200);
    const otherToken = ((await elsewhere.json()) as { token: string }).token;

    // A code of the old key does not confirm the new one; a code of the new key does.
    await page.fill('#totp-new-code', freshCode(oldSecret));
    await page.click('#totp-confirm-form button[type=submit]');
    await expect.poll(() => page.textContent('#error')).toMatch(/DESK_TOTP_CONFIRM_FAILED/);
    await page.fill('#totp-new-code', freshCode(newSecret));
    await page.click('#totp-confirm-form button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toMatch(/authenticator key is changed/);
    await page.waitForSelector('#totp-form');

    // The password: the current one and a code of the new key.
    await page.fill('[name=currentPassword]', DESK_PASSWORD);
    await page.fill('#password-code', freshCode(newSecret));
    await page.fill('[name=newPassword]', NEW_PASSWORD);
    await page.fill('[name=repeatPassword]', NEW_PASSWORD);
    await page.click('#password-form button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toMatch(/password is changed\. 1 other session/);
    const other = await fetch(`${server.url}/desk/v1/me`, {
      headers: { authorization: `Desk ${otherToken}` },
    });
    expect(other.status).toBe(401);
    await check(page, 'account-changed', '#notice');

    // Out, and in again: the old password and the old key are refused, the new ones open the desk.
    await page.click('#logout');
    await page.waitForSelector('#login-form');
    expect(await fillLogin(page, DESK_PASSWORD, freshCode(newSecret))).toBe(401);
    await expect.poll(() => page.textContent('#error')).toMatch(/DESK_LOGIN_FAILED/);
    expect(await fillLogin(page, NEW_PASSWORD, freshCode(oldSecret))).toBe(401);
    await expect.poll(() => page.textContent('#error')).toMatch(/DESK_LOGIN_FAILED/);
    expect(await fillLogin(page, NEW_PASSWORD, freshCode(newSecret))).toBe(200);
    await page.waitForSelector('#desk-view');

    // Declining: intake enters a case; the reviewer declines it from its detail, with a reason.
    const intake = (await server.app.storage.desk.accountByUsername('intake.one'))!;
    const { caseId, status } = await server.app.desk.submit(
      intake,
      {
        authority: { name: 'Landgericht Berlin', kind: 'court', country: 'DE' },
        instrument: {
          type: 'court_order',
          issuingCourt: 'Landgericht Berlin',
          reference: 'LG 9/26',
          issueDate: '2026-01-02',
        },
        offence: { category: 'terrorism', confirmsSuspect: true },
        targets: [{ username: 'someone_here' }],
        timeRange: { from: '2025-01-01', to: '2026-01-01' },
        requestedCategories: ['phone_number'],
      },
      new TextEncoder().encode('%PDF order'),
    );
    expect(status).toBe('awaiting_approval');
    await page.goto(`${server.url}/desk/#/requests/${caseId}`);
    await page.waitForSelector(`#case-view[data-case="${caseId}"] #request-title`);
    await page.click('#case-actions button:has-text("Decline…")');
    await page.waitForSelector('#decline-form');
    await page.fill('#decline-form textarea', REASON);
    await check(page, 'decline', '#decline-form');
    await page.click('#decline-form button[type=submit]');
    await expect.poll(() => page.getAttribute('#case-title [data-status]', 'data-status')).toBe('declined');
    await expect.poll(() => page.textContent('#notice')).toBe('Declined.');
    expect(await page.textContent('#case-view')).toContain(REASON);
    expect(await page.locator('#case-actions button:has-text("Decline…")').count()).toBe(0);
    expect((await server.app.storage.legalCases.byId(caseId))?.declineReason).toBe(REASON);
  }, 240_000);
});
