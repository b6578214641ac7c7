import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { seriousViolations } from './axe.ts';
import { nextPhone } from './harness.ts';

/** A person signed up in the web app, in a browser context of their own. */
export interface WebPerson {
  context: BrowserContext;
  page: Page;
  name: string;
  username: string;
  /** The phone number signed up with (to sign in on another device). */
  phone: string;
}

export interface SignUpOptions {
  /** Called on each sign-up screen once it is filled in (sign-in, first-run policy, profile). */
  onScreen?: (page: Page, screen: 'sign-in' | 'first-run-policy' | 'profile') => Promise<void>;
  /** Accept every confirm() the app asks from here on. */
  acceptDialogs?: boolean;
}

/**
 * Signs a new person up through the web app's screens: phone and SMS code, the policy, a profile with
 * a display name and a unique username; resolves once the chat list says Connected.
 */
export async function signUpInBrowser(
  browser: Browser,
  server: { url: string; sms: { lastCode(phone: string): string } },
  name: string,
  options: SignUpOptions = {},
): Promise<WebPerson> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return signUpInContext(context, server, name, options);
}

/** As `signUpInBrowser`, in a context the caller made (e.g. a persistent one, to restart the browser). */
export async function signUpInContext(
  context: BrowserContext,
  server: { url: string; sms: { lastCode(phone: string): string } },
  name: string,
  options: SignUpOptions = {},
): Promise<WebPerson> {
  const phone = nextPhone();
  const username = `${name.toLowerCase()}${phone.slice(-6)}`;
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => process.stderr.write(`[${name} page error] ${error.message}\n`));
  if (options.acceptDialogs) page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(server.url);
  await page.getByLabel('Phone number', { exact: true }).fill(phone);
  await options.onScreen?.(page, 'sign-in');
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.locator('#code-sent').waitFor();
  await page.getByLabel('Code from the text message').fill(server.sms.lastCode(phone));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Our privacy policy' }).waitFor();
  await page.locator('#policy-text').waitFor();
  await options.onScreen?.(page, 'first-run-policy');
  await page.getByRole('checkbox', { name: /I have read and accept/ }).check();
  await page.getByRole('button', { name: 'Accept and continue' }).click();
  await page.getByRole('heading', { name: 'Your profile' }).waitFor();
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel(/^Username/).fill(username);
  await options.onScreen?.(page, 'profile');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Chats', exact: true }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
  return { context, page, name, username, phone };
}

/**
 * Checks a screen at 360 and 1280 px: no serious or critical axe violation, no sideways scrolling;
 * saves a screenshot of each width into `artifacts`, then restores the page's viewport.
 */
export async function checkScreen(
  page: Page,
  screen: string,
  artifacts: string,
  /** Names of screenshots taken already: each screen and width is photographed once. */
  seen?: Set<string>,
): Promise<void> {
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 800 });
    expect(await seriousViolations(page), `${screen} at ${width} px`).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `${screen} at ${width} px`).toBe(
      width,
    );
    if (!seen?.has(`${screen}-${width}`)) {
      seen?.add(`${screen}-${width}`);
      await page.screenshot({ path: join(artifacts, `${screen}-${width}.png`) });
    }
  }
  await page.setViewportSize(before);
}

/** `checkScreen` bound to one artifacts folder, photographing each screen and width once. */
export function screenChecker(artifacts: string): (page: Page, screen: string) => Promise<void> {
  const seen = new Set<string>();
  return (page, screen) => checkScreen(page, screen, artifacts, seen);
}

/**
 * Accepts the one waiting message request from `fromName` (a stranger's first message arrives under
 * Requests), and waits until the chat with them is open.
 */
export async function acceptRequestInBrowser(page: Page, fromName: string): Promise<void> {
  await page.locator('.requests-entry').filter({ hasText: '1 waiting' }).waitFor({ timeout: 30_000 });
  await page.locator('.requests-entry').click();
  await page
    .getByRole('list', { name: 'Waiting requests' })
    .getByRole('button', { name: new RegExp(fromName) })
    .click();
  await page.getByRole('region', { name: 'Message request' }).getByRole('button', { name: 'Accept' }).click();
  await page.getByRole('heading', { name: fromName, exact: true }).waitFor();
}
