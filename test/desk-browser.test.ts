/**
 * The legal desk web app (packages/desk, Preact) in Debian's Chromium against a real server:
 * enrolment by QR code; an authority files a request through the structured form; intake staff see
 * the queue (filters) and the decision with its reasons; two approvers approve in two browser
 * contexts; the second produces; the authority downloads the signed package; another authority
 * sees only its own requests; an auditor sees the log with every entry's inclusion proof verified.
 * Every main screen passes axe (no serious or critical violation) at 360 and 1280 px, does not
 * scroll sideways at 360 px, and is saved as a screenshot (artifacts/desk, or $COURIER_SCREENSHOTS/desk).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qrPath } from '../packages/desk/src/qr.ts';
import type { DeskRole } from '../packages/server/src/storage/ports.ts';
import { seriousViolations } from './support/axe.ts';
import { DESK_PASSWORD, totpCode } from './support/desk-staff.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { launchChromium } from './support/chromium.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS
  ? join(process.env.COURIER_SCREENSHOTS, 'desk')
  : join(process.cwd(), 'artifacts/desk');

describe('the legal desk web app (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  const accounts = new Map<string, { secret: string; otpauthUri: string; enrolmentLink: string }>();
  const pages: Page[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    const people: [
      'staff' | 'authority',
      string,
      string,
      { roles?: DeskRole[]; country?: string; authorityKind?: string },
    ][] = [
      ['staff', 'intake.one', 'Ines Intake', { roles: ['intake'] }],
      ['staff', 'approver.one', 'Ada Approver', { roles: ['approver'] }],
      ['staff', 'approver.two', 'Bo Approver', { roles: ['approver'] }],
      ['staff', 'auditor.one', 'Otto Auditor', { roles: ['auditor'] }],
      ['authority', 'court.de', 'Landgericht Berlin', { country: 'DE', authorityKind: 'court' }],
      ['authority', 'police.fr', 'Police nationale', { country: 'FR', authorityKind: 'police' }],
    ];
    for (const [kind, username, displayName, extra] of people) {
      const created = await server.app.desk.createAccount({
        kind,
        username,
        displayName,
        password: DESK_PASSWORD,
        ...extra,
      });
      accounts.set(username, {
        secret: created.totpSecret,
        otpauthUri: created.otpauthUri,
        enrolmentLink: created.enrolmentLink,
      });
    }
    browser = await launchChromium();
  });
  // Generous: on a loaded machine closing seven browser contexts and the server takes a while.
  afterAll(async () => {
    for (const page of pages) await page.context().close();
    await browser?.close();
    await server?.close();
  }, 180_000);

  async function newPage(): Promise<Page> {
    const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    pages.push(page);
    return page;
  }

  async function login(username: string, page?: Page): Promise<Page> {
    const p = page ?? (await newPage());
    await p.goto(`${server.url}/desk`);
    await p.fill('[name=username]', username);
    await p.fill('[name=password]', DESK_PASSWORD);
    await p.fill('[name=code]', totpCode(accounts.get(username)!.secret));
    await p.click('#login-form button');
    await p.waitForSelector('#desk-view');
    return p;
  }

  /** axe at both widths, no sideways scrolling at 360 px, and a screenshot at each. */
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

  const caseRow = (caseId: string) => `tr[data-case="${caseId}"]`;
  const openCase = async (page: Page, caseId: string) => {
    await page.goto(`${server.url}/desk/#/requests/${caseId}`);
    await page.waitForSelector(`#case-view[data-case="${caseId}"] #request-title`);
  };
  const status = (page: Page) => page.getAttribute('#case-title [data-status]', 'data-status');

  it('enrols by QR code, files, approves twice, produces and downloads; authorities see only their own', async () => {
    // Enrolment: the operator's link draws the account's otpauth:// URI as a QR code, in the page.
    const enrol = await newPage();
    const { otpauthUri, secret, enrolmentLink } = accounts.get('court.de')!;
    await enrol.goto(`${server.url}${enrolmentLink}`);
    await enrol.waitForSelector('#enrol-qr');
    expect(await enrol.getAttribute('#enrol-qr path', 'd')).toBe(qrPath(otpauthUri).d);
    expect((await enrol.textContent('#enrol-secret'))!.replace(/\s/g, '')).toBe(secret);
    await check(enrol, 'enrol', '#enrol-qr');
    await enrol.click('#enrol-view button');
    await enrol.waitForSelector('#login-form');
    expect(await enrol.evaluate(() => location.hash)).toBe('');
    await check(enrol, 'login', '#login-form');

    // The authority files through the form: its own name, kind and country are filled in and fixed.
    const target = await server.register(nextPhone());
    const court = await login('court.de', enrol);
    await court.click('a[data-tab=new]');
    await court.waitForSelector('#submit-form');
    expect(await court.inputValue('#authorityName')).toBe('Landgericht Berlin');
    expect(await court.inputValue('#country')).toBe('DE');
    // Checked as typed: a missing reference, an empty target and no document are shown at their fields,
    // and nothing is sent.
    await court.fill('#from', '2026-06-01');
    await court.fill('#to', '2026-01-01');
    await court.click('#submit-form button[type=submit]');
    await court.waitForSelector('#reference-issue');
    expect(await court.textContent('#reference-issue')).toMatch(/required/);
    expect(await court.textContent('#to-issue')).toMatch(/from must not be after to/);
    expect(await court.textContent('#target-0-issue')).toBeTruthy();
    expect(await court.textContent('#document-issue')).toMatch(/court document/);
    expect((await server.app.desk.list(await accountOf('intake.one'))).length).toBe(0);

    await court.selectOption('#instrumentType', 'court_order');
    await court.fill('#issuingCourt', 'Landgericht Berlin');
    await court.fill('#reference', 'LG 1/26');
    await court.fill('#issueDate', '2026-01-02');
    await court.fill('#offenceCategory', 'terrorism');
    await court.check('#confirmsSuspect');
    await court.fill('#target-0', target.phone);
    await court.fill('#from', '2025-01-01');
    await court.fill('#to', '2030-01-01');
    await court.check('input[name=category][value=phone_number]');
    await court.check('input[name=category][value=messages]');
    await court.setInputFiles('#document', {
      name: 'order.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF order of the Landgericht'),
    });
    await check(court, 'new-request', '#submit-form');
    await court.click('#submit-form button[type=submit]');
    await expect
      .poll(
        async () =>
          `${await court.textContent('#decision').catch(() => '')}${await court.textContent('#error')}`,
      )
      .toMatch(/Case c_\S+: awaiting approval/);
    const caseId = (await court.textContent('#decision a'))!;

    // Another authority files its own request and sees only that one; the court's case is not found.
    const police = await login('police.fr');
    await police.click('a[data-tab=new]');
    await police.waitForSelector('#submit-form');
    await police.selectOption('#instrumentType', 'police_letter');
    await police.fill('#reference', 'PN-7');
    await police.fill('#issueDate', '2026-02-01');
    await police.fill('#offenceCategory', 'fraud');
    await police.selectOption('#target-kind-0', 'username');
    await police.fill('#target-0', 'someone');
    await police.fill('#from', '2026-01-01');
    await police.fill('#to', '2026-01-31');
    await police.fill('#otherCategories', 'Contacts, messages');
    await police.setInputFiles('#document', {
      name: 'letter.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF letter'),
    });
    await police.click('#submit-form button[type=submit]');
    await police.waitForSelector('#decision a');
    const policeCase = (await police.textContent('#decision a'))!;
    await police.click('a[data-tab=requests]');
    await police.waitForSelector(caseRow(policeCase));
    expect(await police.locator('#cases tbody tr').count()).toBe(1);
    expect(await police.isVisible(caseRow(caseId))).toBe(false);
    await police.goto(`${server.url}/desk/#/requests/${caseId}`);
    await expect.poll(() => police.textContent('#error')).toMatch(/LEGAL_CASE_NOT_FOUND/);

    // Intake staff: the queue with filters, the case with the document, the decision and its reasons,
    // and no approval: only the actions their role allows.
    const intake = await login('intake.one');
    await intake.waitForSelector(caseRow(policeCase));
    expect(await intake.locator('#cases tbody tr').count()).toBe(2);
    await check(intake, 'queue', caseRow(caseId));
    await intake.selectOption('select[name=country]', 'FR');
    await expect.poll(() => intake.locator('#cases tbody tr').count()).toBe(1);
    expect(await intake.isVisible(caseRow(policeCase))).toBe(true);
    await intake.selectOption('select[name=country]', '');
    await intake.selectOption('select[name=status]', 'awaiting_approval');
    await intake.selectOption('select[name=outcome]', 'eligible');
    await expect.poll(() => intake.locator('#cases tbody tr').count()).toBe(1);
    expect(await intake.isVisible(caseRow(caseId))).toBe(true);
    await intake.selectOption('select[name=age]', 'older30');
    await expect.poll(() => intake.locator('#cases tbody tr').count()).toBe(0);
    await intake.click('a[data-tab=requests]');
    await openCase(intake, caseId);
    expect(await intake.textContent('#decision-reasons')).toContain('CONTENT_NEVER_DISCLOSED');
    expect(await intake.textContent('#findings')).toContain(`found (${target.accountId})`);
    expect(await intake.textContent('#approvals-title')).toMatch(/0 of 2/);
    const intakeActions = await intake.locator('#case-actions button').allTextContents();
    expect(intakeActions).toEqual(['Download the court document', 'Decline…']);
    const [documentDownload] = await Promise.all([
      intake.waitForEvent('download'),
      intake.click('#case-actions button:has-text("Download the court document")'),
    ]);
    expect(readFileSync((await documentDownload.path())!, 'utf8')).toBe('%PDF order of the Landgericht');
    await check(intake, 'case-detail', '#decision-detail');

    // Two approvers, two browser contexts; the second produces.
    const one = await login('approver.one');
    await openCase(one, caseId);
    await one.click('#case-actions button:has-text("Approve")');
    await expect.poll(() => one.textContent('#notice')).toMatch(/Approval 1 recorded/);
    expect(await status(one)).toBe('awaiting_approval');
    await expect.poll(() => one.textContent('#approvals')).toContain('approver.one');
    expect(await one.locator('#case-actions button:has-text("Approve")').count()).toBe(0);

    const two = await login('approver.two');
    await openCase(two, caseId);
    await two.click('#case-actions button:has-text("Approve")');
    await expect.poll(() => status(two)).toBe('approved');
    await two.click('#case-actions button:has-text("Produce")');
    await expect.poll(() => status(two)).toBe('produced');
    await expect.poll(() => two.textContent('#notice')).toMatch(/SHA-256 is [0-9a-f]{64}/);

    // The authority downloads the signed package from its case.
    await openCase(court, caseId);
    expect(await status(court)).toBe('produced');
    expect(await court.isVisible('#decision-detail')).toBe(false);
    const [download] = await Promise.all([
      court.waitForEvent('download'),
      court.click('#case-actions button:has-text("Download package")'),
    ]);
    expect(download.suggestedFilename()).toBe(`${caseId}.json`);
    const pkg = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(JSON.parse(pkg.payload).accounts).toEqual([
      { accountId: target.accountId, phone_number: target.phone },
    ]);
    await check(court, 'case-authority', '#request-title');

    // The auditor: the case without targets or actions, and the log with each entry's proof verified.
    const auditor = await login('auditor.one');
    await openCase(auditor, caseId);
    expect(await auditor.locator('#case-actions button').count()).toBe(0);
    expect(await auditor.textContent('#case-view')).toContain('not shown to auditors');
    expect(await auditor.textContent('#case-view')).not.toContain(target.phone);
    await auditor.click('#approvals a');
    await auditor.waitForSelector('#log-entries tbody tr');
    // This case's entries: its request, two approvals and its production.
    await expect
      .poll(() =>
        auditor
          .locator('#log-entries tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type'))),
      )
      .toEqual(['production', 'approval', 'approval', 'request']);
    await auditor.click('a[data-tab=log]');
    await expect
      .poll(() => auditor.locator('#log-entries td.proof[data-proof=verified]').count(), { timeout: 20_000 })
      .toBe(await auditor.locator('#log-entries tbody tr').count());
    expect(await auditor.locator('#log-entries td.proof[data-proof=failed]').count()).toBe(0);
    await expect.poll(() => auditor.textContent('#staff-audit')).toMatch(/produce/);
    await check(auditor, 'audit-log', '#checkpoint');

    // Logging out ends the session on the server, not only in the browser.
    const token = await court.evaluate(
      () => JSON.parse(sessionStorage.getItem('desk-session') ?? 'null')?.token as string,
    );
    await court.click('#logout');
    await court.waitForSelector('#login-form');
    const after = await fetch(`${server.url}/desk/v1/requests`, {
      headers: { authorization: `Desk ${token}` },
    });
    expect(after.status).toBe(401);
  }, 300_000);

  it('serves the desk with a strict policy: hashed assets cached, the page never stored', async () => {
    const page = await fetch(`${server.url}/desk`);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = html.match(/\/desk\/assets\/[\w.-]+\.js/)![0];
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${server.url}/desk/assets/nothing.js`)).status).toBe(404);
  });

  async function accountOf(username: string) {
    const account = await server.app.storage.desk.accountByUsername(username);
    return account!;
  }
});
