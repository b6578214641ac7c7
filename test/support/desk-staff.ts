import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import type { DeskRole } from '../../packages/server/src/storage/ports.ts';
import type { TestServer } from './harness.ts';

export const DESK_PASSWORD = 'correct horse battery staple';

/** Creates desk staff accounts (password DESK_PASSWORD); returns each one's TOTP secret by username. */
export async function addStaff(
  server: TestServer,
  staff: readonly (readonly [username: string, roles: readonly DeskRole[]])[],
): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  for (const [username, roles] of staff) {
    const created = await server.app.desk.createAccount({
      kind: 'staff',
      username,
      displayName: username,
      password: DESK_PASSWORD,
      roles: [...roles],
    });
    secrets.set(username, created.totpSecret);
  }
  return secrets;
}

/** The current one-time code of a desk account. */
export const totpCode = (secret: string, timestamp = Date.now()) =>
  new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp });

/** Logs a desk account in through the desk web app, in a browser context of its own. */
export async function deskPageLogin(
  browser: Browser,
  url: string,
  username: string,
  secret: string,
): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${url}/desk`);
  await page.fill('[name=username]', username);
  await page.fill('[name=password]', DESK_PASSWORD);
  await page.fill('[name=code]', totpCode(secret));
  await page.click('#login-form button');
  await page.waitForSelector('#desk-view:not([hidden])');
  return page;
}
