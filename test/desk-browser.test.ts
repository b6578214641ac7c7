import { readFileSync } from 'node:fs';
import { Secret, TOTP } from 'otpauth';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';

type DeskRole = 'intake' | 'reviewer' | 'approver' | 'auditor';

const PASSWORD = 'correct horse battery staple';

/** The legal desk in Debian's Chromium: an authority submits, two approvers approve, the authority downloads. */
describe('the legal desk web app (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    server = await startTestServer();
    const accounts: [
      'staff' | 'authority',
      string,
      { roles?: DeskRole[]; country?: string; authorityKind?: string },
    ][] = [
      ['staff', 'approver.one', { roles: ['approver'] }],
      ['staff', 'approver.two', { roles: ['approver'] }],
      ['authority', 'court.de', { country: 'DE', authorityKind: 'court' }],
    ];
    for (const [kind, username, extra] of accounts) {
      const created = await server.app.desk.createAccount({
        kind,
        username,
        // An authority files in the name its account was verified with.
        displayName: kind === 'authority' ? 'Landgericht' : username,
        password: PASSWORD,
        ...extra,
      });
      secrets.set(username, created.totpSecret);
    }
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function login(username: string): Promise<Page> {
    const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    await page.goto(`${server.url}/desk`);
    await page.fill('[name=username]', username);
    await page.fill('[name=password]', PASSWORD);
    await page.fill(
      '[name=code]',
      new TOTP({ secret: Secret.fromBase32(secrets.get(username)!) }).generate(),
    );
    await page.click('#login-form button');
    await page.waitForSelector('#desk-view:not([hidden])');
    return page;
  }

  it('works end to end through the browser', async () => {
    const target = await server.register(nextPhone());
    const court = await login('court.de');
    const request = {
      authority: { name: 'Landgericht', kind: 'court', country: 'DE' },
      instrument: {
        type: 'court_order',
        issuingCourt: 'Landgericht Berlin',
        reference: 'LG 1/26',
        issueDate: '2026-01-02',
      },
      offence: { category: 'terrorism', confirmsSuspect: true },
      targets: [{ phone: target.phone }],
      timeRange: { from: '2025-01-01', to: '2030-01-01' },
      requestedCategories: ['phone_number', 'messages'],
    };
    await court.fill('[name=request]', JSON.stringify(request));
    await court.setInputFiles('[name=document]', {
      name: 'order.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF order'),
    });
    await court.click('#submit-form button');
    await expect
      .poll(async () => `${await court.textContent('#decision')}${await court.textContent('#error')}`)
      .toMatch(/Case c_\S+: awaiting_approval/);
    const caseId = (await court.textContent('#decision'))!.match(/Case (c_\S+):/)![1]!;

    // A bad request shows the catalog error, not a crash.
    await court.fill('[name=request]', '{ "not": "a request" }');
    await court.click('#submit-form button');
    await expect.poll(() => court.textContent('#error')).toMatch(/LEGAL_REQUEST_INVALID/);

    for (const approver of ['approver.one', 'approver.two']) {
      const page = await login(approver);
      await page.click(`tr[data-case="${caseId}"] button:has-text("Approve")`);
      await expect
        .poll(() => page.textContent(`tr[data-case="${caseId}"]`))
        .toMatch(approver === 'approver.two' ? /approved/ : /awaiting_approval/);
      if (approver === 'approver.two') {
        await page.click(`tr[data-case="${caseId}"] button:has-text("Produce")`);
        await expect.poll(() => page.textContent(`tr[data-case="${caseId}"]`)).toMatch(/produced/);
      }
    }

    await court.reload();
    const [download] = await Promise.all([
      court.waitForEvent('download'),
      court.click(`tr[data-case="${caseId}"] button:has-text("Download package")`),
    ]);
    expect(download.suggestedFilename()).toBe(`${caseId}.json`);
    const text = readFileSync((await download.path())!, 'utf8');
    const payload = JSON.parse(JSON.parse(text).payload);
    expect(payload.accounts).toEqual([{ accountId: target.accountId, phone_number: target.phone }]);
    await court.screenshot({ path: `${process.env.COURIER_SCREENSHOTS ?? '/tmp'}/courier-desk.png` });

    // Logging out ends the session on the server, not only in the browser.
    const token = await court.evaluate(
      () => JSON.parse(sessionStorage.getItem('desk-session') ?? 'null')?.token as string,
    );
    await court.click('#logout');
    await court.waitForSelector('#login-view:not([hidden])');
    const after = await fetch(`${server.url}/desk/v1/requests`, {
      headers: { authorization: `Desk ${token}` },
    });
    expect(after.status).toBe(401);
  }, 60_000);
});
