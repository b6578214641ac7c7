import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from './support/axe.ts';
import { nextPhone, startTestServer, type TestServer, unsafeTestingClock } from './support/harness.ts';
import { launchChromium } from './support/chromium.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const ARTIFACTS = process.env.COURIER_SCREENSHOTS
  ? join(process.env.COURIER_SCREENSHOTS, 'transparency')
  : join(root, 'artifacts/transparency');
const PASSWORD = 'correct horse battery staple';
const DOC = Buffer.from('%PDF-1.7 the court order').toString('base64');

/**
 * The public transparency page against a real server, in Debian's Chromium: legal requests go
 * through the HTTP desk in two periods (2026-H1: one fulfilled after two approvals, one from a
 * not-considered country; 2026-H2: one pending, one not considered), then the page shows those
 * counts in its per-country tables and its chart, its JSON verifies with the command the page
 * prints (the CLI's `verify-report`), it passes axe and does not scroll sideways at 360 px.
 */
describe('the transparency page (Chromium, real server)', () => {
  const clock = new unsafeTestingClock(Date.UTC(2026, 2, 10, 9));
  const tokens = new Map<string, string>();
  const secrets = new Map<string, string>();
  let server: TestServer;
  let browser: Browser;
  let home: string;

  async function call(method: string, path: string, who?: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(who ? { authorization: `Desk ${tokens.get(who)}` } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }
  async function login(username: string) {
    const code = new TOTP({ secret: Secret.fromBase32(secrets.get(username)!), label: username }).generate({
      timestamp: clock.now(),
    });
    const reply = await call('POST', '/desk/v1/login', undefined, { username, password: PASSWORD, code });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    tokens.set(username, reply.body.token);
  }
  const request = (country: string, kind: string, phone: string, month: number) => {
    const day = (d: number) => new Date(Date.UTC(2026, month, d)).toISOString().slice(0, 10);
    return {
      authority: { name: `An agency of ${country}`, kind, country },
      instrument: {
        type: 'court_order',
        issuingCourt: 'A court',
        reference: `ref-${country}`,
        issueDate: day(5),
      },
      offence: { category: 'terrorism', confirmsSuspect: true },
      targets: [{ phone }],
      timeRange: { from: day(1), to: day(4) },
      requestedCategories: ['phone_number', 'messages'],
    };
  };
  const submit = async (who: string, body: ReturnType<typeof request>) => {
    const reply = await call('POST', '/desk/v1/requests', who, { request: body, documentBase64: DOC });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return reply.body.caseId as string;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    home = mkdtempSync(join(tmpdir(), 'courier-transparency-page-'));
    server = await startTestServer({ clock });
    const target = await server.register(nextPhone());
    const accounts: [string, 'staff' | 'authority', Record<string, unknown>][] = [
      ['bka.de', 'authority', { country: 'DE', authorityKind: 'police' }],
      ['fsb.ru', 'authority', { country: 'RU', authorityKind: 'security_service' }],
      ['approver.a', 'staff', { roles: ['approver'] }],
      ['approver.b', 'staff', { roles: ['approver'] }],
      ['mod.one', 'staff', { roles: ['moderator'] }],
      ['mod.two', 'staff', { roles: ['moderator'] }],
    ];
    for (const [username, kind, extra] of accounts) {
      const created = await server.app.desk.createAccount({
        kind,
        username,
        displayName: kind === 'authority' ? `An agency of ${extra.country}` : username,
        password: PASSWORD,
        ...extra,
      });
      secrets.set(username, created.totpSecret);
      await login(username);
    }
    // 2026-H1: Germany's request is approved twice and produced; Russia's is not considered.
    const de = await submit('bka.de', request('DE', 'police', target.phone, 1));
    await submit('fsb.ru', request('RU', 'security_service', target.phone, 1));
    expect((await call('POST', `/desk/v1/requests/${de}/approve`, 'approver.a')).body.approvals).toBe(1);
    expect((await call('POST', `/desk/v1/requests/${de}/approve`, 'approver.b')).body.approved).toBe(true);
    expect((await call('POST', `/desk/v1/requests/${de}/produce`, 'approver.b')).status).toBe(200);
    // 2026-H2: Germany asks again (left pending), Russia again.
    clock.advance(150 * 24 * 3600 * 1000);
    for (const username of secrets.keys()) await login(username);
    await submit('bka.de', request('DE', 'police', target.phone, 6));
    await submit('fsb.ru', request('RU', 'security_service', target.phone, 6));
    // 2026-H2: two moderators suspend an account on their own finding (no report cited).
    const suspension = `/desk/v1/moderation/suspensions/${target.accountId}`;
    expect((await call('POST', `${suspension}/propose`, 'mod.one', {})).body).toMatchObject({
      state: 'proposed',
    });
    expect((await call('POST', `${suspension}/approve`, 'mod.two')).body).toMatchObject({
      state: 'suspended',
    });

    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** Opens a page of the site, collecting CSP violations and script errors. */
  async function open(path: string): Promise<{ page: Page; problems: string[] }> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // Failed loads are checked by URL below (the browser's own /favicon.ico probe is not the page's).
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico')
        problems.push(`${response.status()}: ${response.url()}`);
    });
    await page.goto(`${server.url}${path}`);
    await page.waitForSelector('#verify-command');
    return { page, problems };
  }
  /** A country table's figures as { measure: value }. */
  const table = (page: Page, country: string) =>
    page.$$eval(`table[data-country="${country}"] tr`, (rows) =>
      Object.fromEntries(
        rows.map((r) => [
          r.querySelector('th')!.textContent!.trim(),
          r.querySelector('td')!.textContent!.trim(),
        ]),
      ),
    );
  /** How many pixels of the canvas have (about) this colour. */
  const pixels = (page: Page, id: string, rgb: [number, number, number]) =>
    page.$eval(
      `#${id}`,
      (canvas, [r, g, b]) => {
        const c = canvas as HTMLCanvasElement;
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4)
          if (Math.abs(data[i]! - r) < 4 && Math.abs(data[i + 1]! - g) < 4 && Math.abs(data[i + 2]! - b) < 4)
            n += 1;
        return n;
      },
      rgb,
    );

  /** Axe, no sideways scrolling and a screenshot, at 360 and 1280 px. */
  async function check(page: Page, name: string) {
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
      // Let chart.js follow the new width before anything is measured.
      await page.waitForFunction(
        (w) => (document.querySelector('#chart-outcomes') as HTMLCanvasElement).clientWidth <= w,
        width,
      );
      expect(await seriousViolations(page), `${name} at ${width} px`).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${width} px`).toBe(
        width,
      );
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
    }
  }

  it('lists the periods through a public endpoint and serves the page for a period, 404 otherwise', async () => {
    const list = await (await fetch(`${server.url}/v1/transparency/periods`)).json();
    expect(list.current).toBe('2026-H2');
    const first = list.periods[0].period;
    expect(first).toBe('2026-H1');
    expect(list.periods.map((p: { period: string }) => p.period)).toEqual(['2026-H1', '2026-H2']);
    expect(list.periods[0]).toMatchObject({
      received: 2,
      notConsidered: 1,
      fulfilled: 1,
      accountsAffected: 1,
    });
    expect(list.periods[0]).toMatchObject({ suspended: 0, lifted: 0 });
    expect(list.periods[1]).toMatchObject({
      received: 2,
      notConsidered: 1,
      pending: 1,
      fulfilled: 0,
      suspended: 1,
      lifted: 0,
    });
    const page = await fetch(`${server.url}/transparency`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe');
    expect((await fetch(`${server.url}/transparency/2026-H1`)).status).toBe(200);
    expect((await fetch(`${server.url}/transparency/2026-H3`)).status).toBe(404);
    expect((await fetch(`${server.url}/transparency/..%2Findex.html`)).status).toBe(404);
  });

  it('shows the current period’s counts per country, the chart over the periods, the policy in words', async () => {
    const { page, problems } = await open('/transparency');
    expect(await page.textContent('h1')).toBe('Transparency report 2026-H2');
    expect(await table(page, 'DE')).toMatchObject({
      'Requests received': '1',
      'Pending at the end of the period': '1',
    });
    expect(await table(page, 'RU')).toMatchObject({
      'Requests received': '1',
      'Not considered (country excluded by the policy)': '1',
    });
    expect(await table(page, 'TOTAL')).toMatchObject({ 'Requests received': '2', Fulfilled: '0' });
    expect(await page.textContent('table[data-country="DE"] caption')).toBe('Germany (DE)');

    // The chart: what it draws, said in words, and drawn (bars in the colours of the outcomes).
    const label = await page.getAttribute('#chart-outcomes', 'aria-label');
    expect(label).toContain(
      '2026-H1: 2 received (1 not considered, 0 rejected, 0 declined after review, 0 pending, 1 fulfilled)',
    );
    expect(label).toContain(
      '2026-H2: 2 received (1 not considered, 0 rejected, 0 declined after review, 1 pending, 0 fulfilled)',
    );
    expect(await pixels(page, 'chart-outcomes', [0x1f, 0x4e, 0x79])).toBeGreaterThan(50); // fulfilled
    expect(await pixels(page, 'chart-outcomes', [0x5b, 0x7f, 0xa6])).toBeGreaterThan(50); // pending
    expect(await pixels(page, 'chart-outcomes', [0x6b, 0x6b, 0x6b])).toBeGreaterThan(50); // not considered
    expect(await page.getAttribute('#chart-accounts', 'aria-label')).toBe(
      'Accounts whose data was disclosed, per period: 2026-H1: 1; 2026-H2: 0.',
    );

    expect(await page.getAttribute('#chart-suspensions', 'aria-label')).toBe(
      'Accounts suspended by two moderators, and suspensions lifted, per period: 2026-H1: 0 suspended, 0 lifted; 2026-H2: 1 suspended, 0 lifted.',
    );
    expect(await pixels(page, 'chart-suspensions', [0xa3, 0x00, 0x00])).toBeGreaterThan(50);
    expect(await page.textContent('section[aria-labelledby="moderation-heading"] p')).toContain(
      'own finding: 1 (by reason: none: 1); suspensions lifted: 0.',
    );

    // The policy in plain words, the JSON a click away.
    const policy = (await page.textContent('section[aria-labelledby="policy-heading"]'))!;
    expect(policy).toContain('Policy 2018-08-14, in force since 2018-08-14');
    expect(policy).toContain('Only a court order can lead to a disclosure');
    expect(policy).toContain('It must concern terrorism, and confirm that the account holder is a suspect');
    expect(policy).toContain('Requests from Russia (RU) are not considered at all');
    expect(policy).toContain('Nothing is produced before 2 different staff members have approved');
    expect(await page.isVisible('section[aria-labelledby="policy-heading"] pre')).toBe(false);
    await page.click('summary');
    expect(
      JSON.parse((await page.textContent('section[aria-labelledby="policy-heading"] pre'))!),
    ).toMatchObject({
      version: '2018-08-14',
      notConsideredJurisdictions: ['RU'],
      approvalsRequired: 2,
    });

    // The periods, the newest first, and the downloads.
    expect(await page.$$eval('ul.periods a', (as) => as.map((a) => a.textContent))).toEqual([
      '2026-H2',
      '2026-H1',
    ]);
    expect(await page.getAttribute('ul.periods a[aria-current="page"]', 'href')).toBe(
      '/transparency/2026-H2',
    );
    const csvHref = await page.getAttribute('a:text-is("CSV")', 'href');
    expect(csvHref).toBe('/v1/transparency/reports/2026-H2.csv');
    expect(await (await fetch(`${server.url}${csvHref}`)).text()).toMatch(/^TOTAL,2,1,/m);
    expect(await page.getAttribute('a:text-is("JSON")', 'href')).toBe(
      '/v1/transparency/reports/2026-H2.json',
    );

    await check(page, 'transparency-current');
    expect(problems).toEqual([]);
  });

  it('shows a past period, and its JSON verifies with the command the page prints', async () => {
    const { page, problems } = await open('/transparency');
    await page.click('ul.periods a:text-is("2026-H1")');
    await page.waitForURL(/\/transparency\/2026-H1$/);
    await page.waitForSelector('#verify-command');
    expect(await page.textContent('h1')).toBe('Transparency report 2026-H1');
    expect(await table(page, 'DE')).toMatchObject({
      'Requests received': '1',
      'Eligible for review': '1',
      Fulfilled: '1',
      'Accounts whose data was disclosed': '1',
      'Data disclosed': 'phone number 1',
    });
    expect(await table(page, 'TOTAL')).toMatchObject({ 'Requests received': '2', Fulfilled: '1' });

    // The checkpoint on the page is the one the report's JSON names, signed over the whole log.
    const json = await (await fetch(`${server.url}/v1/transparency/reports/2026-H1.json`)).json();
    expect(await page.textContent('#checkpoint')).toBe(json.checkpoint);
    expect(json.totals).toMatchObject({ received: 2, fulfilled: 1, notConsidered: 1 });

    // Run what the page says, with the CLI (its own profile home): every number is recomputed.
    const command = (await page.textContent('#verify-command'))!;
    const match = command.match(
      /^courier --server (\S+) verify-report --period (\S+) --key '([^']+)' --origin '([^']+)'$/,
    );
    expect(match, command).not.toBeNull();
    const [, url, period, key, origin] = match!;
    expect(url).toBe(server.url);
    expect(key).toBe(server.app.transparency.verifierKey);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        'packages/cli/bin/courier.js',
        '--server',
        url!,
        '--home',
        home,
        'verify-report',
        '--period',
        period!,
        '--key',
        key!,
        '--origin',
        origin!,
      ],
      { cwd: root },
    );
    expect(stdout).toContain('Report 2026-H1 verified');
    expect(stdout).toContain('received 2, not considered 1, rejected 0, declined 0, fulfilled 1, pending 0');

    await check(page, 'transparency-2026-H1');
    expect(problems).toEqual([]);
  });
});
