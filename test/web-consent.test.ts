import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addStaff, DESK_PASSWORD, totpCode } from './support/desk-staff.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { type SecureDevice, secureDevice } from './support/secure.ts';
import { launchChromium } from './support/chromium.ts';
import { screenChecker, signUpInBrowser, type WebPerson } from './support/web-person.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

type Person = WebPerson;

/**
 * Issue 12 in the messenger (Chromium, real server): a stranger's first messages arrive under
 * Requests, not among the chats; accepting moves the chat to the chats; Delete removes a request and
 * its sender notices nothing; blocking from a request and from a chat keeps the person's later
 * messages out, and Settings lists them with Unblock; a stranger's group add (setting "contacts")
 * arrives as an invitation; a report from a chat forwards exactly the two messages chosen, after the
 * person read what will be sent and agreed, and the desk's moderation queue holds exactly those.
 * Every new screen and dialog passes axe-core at 360 and 1280 px.
 */
describe('consent in the messenger: requests, block, report, who may add me', () => {
  let server: TestServer;
  let browser: Browser;
  const sdkDevices: SecureDevice[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const d of sdkDevices) await d.client.stop();
    await browser?.close();
    await server?.close();
  });

  const check = screenChecker(ARTIFACTS);

  const signUp = (name: string): Promise<Person> =>
    signUpInBrowser(browser, server, name, { acceptDialogs: true });

  /** A stranger on the SDK (faster than a browser where their own view is not the point). */
  async function sdkStranger(name: string): Promise<SecureDevice> {
    const user = await server.register(nextPhone());
    await user.http.setDisplayName(name);
    const device = await secureDevice(server, user);
    sdkDevices.push(device);
    return device;
  }

  async function startChat(person: Person, username: string, title: string): Promise<void> {
    await person.page.getByRole('button', { name: 'New chat' }).click();
    await person.page.getByLabel('Username or phone number').fill(`@${username}`);
    await person.page.getByRole('button', { name: 'Open chat' }).click();
    await person.page.getByRole('heading', { name: title, exact: true }).waitFor();
    await person.page.getByLabel('Message', { exact: true }).and(person.page.locator(':enabled')).waitFor();
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
    await page.locator('.message.out').filter({ hasText: text }).locator('[data-state=stored]').waitFor();
  }

  const texts = (page: Page) => page.locator('.message .text').allTextContents();
  const chatList = (page: Page) => page.getByRole('list', { name: 'Your chats' });
  const requestsEntry = (page: Page) => page.locator('.requests-entry');

  async function openRequests(page: Page): Promise<void> {
    await requestsEntry(page).click();
    await page.getByRole('heading', { name: 'Requests', exact: true }).waitFor();
  }

  async function deskToken(username: string, secret: string): Promise<string> {
    const response = await fetch(`${server.url}/desk/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: DESK_PASSWORD, code: totpCode(secret) }),
    });
    return ((await response.json()) as { token: string }).token;
  }

  async function desk(token: string, path: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${server.url}/desk/v1${path}`, {
      headers: { authorization: `Desk ${token}` },
    });
    return (await response.json()) as Record<string, unknown>;
  }

  it('requests apart from chats, accept, delete, block and unblock, invitations, and a report with consent', async () => {
    const alice = await signUp('Alice');
    const sam = await signUp('Sam');
    const tess = await signUp('Tess');

    // Sam, a stranger, writes: it is a request, not a chat.
    await startChat(sam, alice.username, 'Alice');
    await send(sam.page, 'Sam first');
    await requestsEntry(alice.page).filter({ hasText: '1 waiting' }).waitFor();
    expect(await chatList(alice.page).count()).toBe(0);
    await openRequests(alice.page);
    await check(alice.page, 'requests');
    const samRequest = alice.page
      .getByRole('list', { name: 'Waiting requests' })
      .getByRole('button', { name: /Sam/ });
    await samRequest.filter({ hasText: 'message request' }).filter({ hasText: 'Sam first' }).waitFor();
    await samRequest.click();
    await alice.page.getByRole('heading', { name: 'Sam', exact: true }).waitFor();
    await expect.poll(() => texts(alice.page)).toEqual(['Sam first']);
    // A request is read, not answered: no composer until accepted.
    expect(await alice.page.getByLabel('Message', { exact: true }).count()).toBe(0);
    await check(alice.page, 'request');
    await alice.page
      .getByRole('region', { name: 'Message request' })
      .getByRole('button', { name: 'Accept' })
      .click();

    // Accepted: a chat now, with the composer; Requests is empty.
    await chatList(alice.page).getByRole('button', { name: /Sam/ }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).waitFor();
    await requestsEntry(alice.page).filter({ hasText: 'None waiting' }).waitFor();

    // Sam writes twice more; Alice reports the first and the third, after reading what goes out.
    await send(sam.page, 'Sam second');
    await send(sam.page, 'Sam third');
    await expect.poll(() => texts(alice.page)).toEqual(['Sam first', 'Sam second', 'Sam third']);
    await alice.page.getByRole('button', { name: 'Chat menu' }).click();
    await check(alice.page, 'chat-menu');
    await alice.page.getByRole('button', { name: 'Report…' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Report Sam' });
    await dialog.waitFor();
    const boxes = dialog.getByRole('checkbox', { name: /Sam .*Sam (first|second|third)/ });
    await expect.poll(() => boxes.count()).toBe(3);
    // The last 10 are chosen at first: here all three.
    for (const box of await boxes.all()) expect(await box.isChecked()).toBe(true);
    await check(alice.page, 'report-choose');
    await dialog.getByRole('checkbox', { name: /Sam second/ }).uncheck();
    await dialog.getByLabel('Reason').selectOption('abuse');
    await dialog.getByLabel('Comment (optional)').fill('He keeps writing');
    await dialog.getByRole('button', { name: 'Review the report' }).click();
    const forwarded = dialog.getByRole('list', { name: 'Messages that will be forwarded' }).locator('.text');
    await expect.poll(() => forwarded.allTextContents()).toEqual(['Sam first', 'Sam third']);
    expect(await dialog.locator('#report-warning').textContent()).toMatch(
      /moderators .* will be able to read/,
    );
    // Nothing is sent before the person agrees.
    const send_ = dialog.getByRole('button', { name: 'Send report' });
    expect(await send_.isDisabled()).toBe(true);
    await check(alice.page, 'report-review');
    await dialog.getByRole('checkbox', { name: 'I agree to send exactly this to the moderators' }).check();
    await send_.click();
    await alice.page.getByRole('status').filter({ hasText: 'Report sent' }).waitFor();

    // By keyboard alone: the chat menu, Report…, the dialog takes the focus, Escape closes it.
    await alice.page.getByRole('button', { name: 'Chat menu' }).focus();
    await alice.page.keyboard.press('Enter');
    await alice.page.keyboard.press('Tab');
    expect(await alice.page.evaluate(() => document.activeElement?.textContent)).toBe('Report…');
    await alice.page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('checkbox').first().waitFor();
    expect(await alice.page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    await alice.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    const secrets = await addStaff(server, [['mod.web', ['moderator']]]);
    const token = await deskToken('mod.web', secrets.get('mod.web')!);
    const queue = (await desk(token, '/moderation/reports?state=open')).reports as {
      reportId: string;
      reason: string;
      messageCount: number;
    }[];
    expect(queue).toHaveLength(1);
    expect(queue[0]).toMatchObject({ reason: 'abuse', messageCount: 2 });
    const read = await desk(token, `/moderation/reports/${queue[0]!.reportId}`);
    expect((read.messages as { text: string }[]).map((m) => m.text)).toEqual(['Sam first', 'Sam third']);
    expect(read.comment).toBe('He keeps writing');

    // Tess, another stranger, writes; Alice deletes the request; Tess notices nothing.
    await startChat(tess, alice.username, 'Alice');
    await send(tess.page, 'Tess hello');
    await requestsEntry(alice.page).filter({ hasText: '1 waiting' }).waitFor();
    await openRequests(alice.page);
    await alice.page.getByRole('button', { name: /Tess/ }).filter({ hasText: 'Tess hello' }).click();
    await alice.page
      .getByRole('region', { name: 'Message request' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await alice.page.getByRole('status').filter({ hasText: 'Request deleted.' }).waitFor();
    await alice.page.getByText('No requests.').waitFor();
    expect(await chatList(alice.page).getByRole('button', { name: /Tess/ }).count()).toBe(0);
    // Tess's view is as before, and her next message is "Sent" like any other.
    await send(tess.page, 'Tess again');
    expect(await texts(tess.page)).toEqual(['Tess hello', 'Tess again']);
    expect(await tess.page.locator('[data-state=stored]').count()).toBe(2);
    await tess.page.getByRole('heading', { name: 'Alice', exact: true }).waitFor();

    // Uma (a stranger on the SDK) writes; Alice blocks her from the request.
    const uma = await sdkStranger('Uma');
    const aliceId = (await uma.user.http.lookup({ username: alice.username })).accountId;
    const umaChat = (await uma.client.openDirect(aliceId)).groupId;
    await uma.client.sendText(umaChat, 'Uma hello');
    await alice.page.getByRole('button', { name: /Uma/ }).filter({ hasText: 'Uma hello' }).click();
    await alice.page
      .getByRole('region', { name: 'Message request' })
      .getByRole('button', { name: 'Block' })
      .click();
    await alice.page.getByRole('status').filter({ hasText: 'Uma is blocked.' }).waitFor();
    await uma.client.sendText(umaChat, 'Uma after block');

    // Alice blocks Sam from the chat's menu; Sam's later message is "Sent" for him, and never shows.
    await chatList(alice.page).getByRole('button', { name: /Sam/ }).click();
    await alice.page.getByRole('button', { name: 'Chat menu' }).click();
    await alice.page.getByRole('button', { name: 'Block Sam' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Sam is blocked.' }).waitFor();
    await expect.poll(() => chatList(alice.page).count()).toBe(0);
    await send(sam.page, 'Sam after block');
    await openRequests(alice.page);

    // Vic (another stranger) writes after them: his request shows, theirs never do.
    const vic = await sdkStranger('Vic');
    const vicChat = (await vic.client.openDirect(aliceId)).groupId;
    await vic.client.sendText(vicChat, 'Vic marker');
    await alice.page.getByRole('button', { name: /Vic/ }).filter({ hasText: 'Vic marker' }).waitFor();
    const html = await alice.page.content();
    for (const text of ['Uma after block', 'Sam after block', 'Tess again']) expect(html).not.toContain(text);
    expect(await alice.page.getByRole('button', { name: /Uma|Sam|Tess/ }).count()).toBe(0);

    // Settings: both blocked people, and Unblock.
    await alice.page.getByRole('button', { name: 'Settings', exact: true }).click();
    const blocked = alice.page.getByRole('list', { name: 'Blocked people' });
    await blocked.getByRole('button', { name: 'Unblock Sam' }).waitFor();
    await blocked.getByRole('button', { name: 'Unblock Uma' }).waitFor();
    await check(alice.page, 'settings-blocked');
    await blocked.getByRole('button', { name: 'Unblock Sam' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Sam is unblocked.' }).waitFor();
    await expect
      .poll(() => blocked.getByRole('listitem').allTextContents())
      .toEqual([expect.stringContaining('Uma')]);

    // Who may add me to groups: "My contacts"; Vic (a stranger) adds Alice: an invitation.
    await alice.page.getByLabel('Who may add me to groups').selectOption('contacts');
    await alice.page.getByRole('button', { name: 'Save settings' }).click();
    await alice.page
      .locator('#settings-status')
      .filter({ hasText: 'may add you to groups: contacts' })
      .waitFor();
    const club = await vic.client.createGroup('Vic club', [aliceId]);
    expect(club.members.map((m) => m.accountId)).not.toContain(aliceId);
    await openRequests(alice.page);
    const invitation = alice.page
      .getByRole('list', { name: 'Waiting requests' })
      .getByRole('button', { name: /Vic club/ })
      .filter({ hasText: 'group invitation' });
    await invitation.filter({ hasText: 'Vic invited you' }).waitFor();
    expect(
      await chatList(alice.page)
        .getByRole('button', { name: /Vic club/ })
        .count(),
    ).toBe(0);
    await invitation.click();
    await alice.page.getByRole('heading', { name: 'Invitation to “Vic club”' }).waitFor();
    await check(alice.page, 'invitation');
    await alice.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await chatList(alice.page)
      .getByRole('button', { name: /Vic club/ })
      .waitFor();
    expect((await vic.user.http.group(club.groupId)).members.map((m) => m.accountId)).toContain(aliceId);

    // Vic's message request: accepted, then the direct chat is deleted from its menu.
    await openRequests(alice.page);
    await alice.page.getByRole('button', { name: /Vic/ }).filter({ hasText: 'Vic marker' }).click();
    await alice.page
      .getByRole('region', { name: 'Message request' })
      .getByRole('button', { name: 'Accept' })
      .click();
    await chatList(alice.page)
      .getByRole('button', { name: /^Vic(?! club)/ })
      .waitFor();
    await alice.page.getByLabel('Message', { exact: true }).waitFor();
    await alice.page.getByRole('button', { name: 'Chat menu' }).click();
    await alice.page.getByRole('button', { name: 'Delete chat' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Chat deleted.' }).waitFor();
    await expect
      .poll(() => chatList(alice.page).locator('.chat-title').allTextContents())
      .toEqual(['Vic club · group']);
    // Leaving is visible, as in a group: Alice is off the chat's roster that Vic sees.
    expect((await vic.client.http.group(vicChat)).members.map((m) => m.accountId)).not.toContain(aliceId);

    // Wes writes spam: Alice reports it straight from the request (one message, the default choice),
    // then accepts and blocks him from the chat's info (his profile).
    const wes = await sdkStranger('Wes');
    const wesChat = (await wes.client.openDirect(aliceId)).groupId;
    await wes.client.sendText(wesChat, 'Wes spam');
    await openRequests(alice.page);
    await alice.page.getByRole('button', { name: /Wes/ }).filter({ hasText: 'Wes spam' }).click();
    await alice.page
      .getByRole('region', { name: 'Message request' })
      .getByRole('button', { name: 'Report…' })
      .click();
    const wesDialog = alice.page.getByRole('dialog', { name: 'Report Wes' });
    await wesDialog.getByRole('checkbox', { name: /Wes spam/, checked: true }).waitFor();
    await wesDialog.getByRole('button', { name: 'Review the report' }).click();
    await wesDialog.getByRole('checkbox', { name: 'I agree to send exactly this to the moderators' }).check();
    await wesDialog.getByRole('button', { name: 'Send report' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Report sent' }).waitFor();
    const reports = (await desk(token, '/moderation/reports?state=open')).reports as {
      reportId: string;
      reason: string;
      messageCount: number;
      chatId: string;
    }[];
    expect(reports).toHaveLength(2);
    const wesReport = reports.find((r) => r.chatId === wesChat);
    expect(wesReport).toMatchObject({ reason: 'spam', messageCount: 1 });
    expect(
      ((await desk(token, `/moderation/reports/${wesReport!.reportId}`)).messages as { text: string }[]).map(
        (m) => m.text,
      ),
    ).toEqual(['Wes spam']);
    await alice.page
      .getByRole('region', { name: 'Message request' })
      .getByRole('button', { name: 'Accept' })
      .click();
    await alice.page.getByLabel('Message', { exact: true }).waitFor();
    await alice.page.getByRole('button', { name: 'Chat info' }).click();
    await alice.page.getByRole('button', { name: 'Block Wes' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Wes is blocked.' }).waitFor();
    await alice.page.getByRole('button', { name: 'Settings', exact: true }).click();
    await expect
      .poll(() =>
        alice.page.getByRole('list', { name: 'Blocked people' }).getByRole('listitem').allTextContents(),
      )
      .toEqual([expect.stringContaining('Uma'), expect.stringContaining('Wes')]);

    for (const person of [alice, sam, tess]) await person.context.close();
  }, 240_000);
});
