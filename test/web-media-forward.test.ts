import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bytesSource, describeUpload, downloadDecryptedFile, uploadEncryptedFile } from '@courier/sdk';
import { encodeBase64 } from '@courier/protocol';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { checkScreen, signUpInBrowser } from './support/web-person.ts';
import { launchChromium } from './support/chromium.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Forward of a photo in the browser (issue 14): Alice (on the SDK) sends a photo to a group with Bob;
 * Bob, in Chromium, forwards it from the message menu to another group, whose member Carol (on the
 * SDK) receives the same pointer, key and preview re-encrypted for that chat, and downloads the same
 * bytes, which no upload repeated: the server still holds one blob. Bob's chat shows the forwarded
 * photo with its preview and "Forwarded from".
 */
describe('forwarding a photo in the browser', () => {
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

  it("forwards a photo from the message menu: the other chat's member gets it, one blob on the server", async () => {
    const bob = await signUpInBrowser(browser, server, 'Bob');
    const [aliceUser, carolUser] = await Promise.all([
      server.register(nextPhone()),
      server.register(nextPhone()),
    ]);
    await aliceUser.http.setDisplayName('Alice');
    const [alice, carol] = await Promise.all([
      secureDevice(server, aliceUser),
      secureDevice(server, carolUser),
    ]);
    try {
      const bobId = (await aliceUser.http.lookup({ username: bob.username })).accountId;
      const holiday = await alice.client.createGroup('Holiday', [bobId]);
      const family = await carol.client.createGroup('Family', [bobId]);

      const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#ff7a00' } })
        .composite([
          {
            input: randomBytes(200 * 150 * 3),
            raw: { width: 200, height: 150, channels: 3 },
            left: 100,
            top: 100,
          },
        ])
        .png()
        .toBuffer();
      const thumb = await sharp(photo).resize(320).webp().toBuffer();
      const uploaded = await uploadEncryptedFile(
        { baseUrl: server.url, token: aliceUser.token },
        holiday.groupId,
        bytesSource(photo),
      );
      const descriptor = {
        ...describeUpload(uploaded, 'beach.png', 'image/png'),
        width: 800,
        height: 600,
        preview: { mime: 'image/webp', data: encodeBase64(thumb) },
      };
      const chats = bob.page.getByRole('list', { name: 'Your chats' });
      await chats.getByRole('button', { name: /Holiday/ }).click();
      await bob.page.getByRole('heading', { name: 'Holiday', exact: true }).waitFor();
      await alice.client.sendFile(holiday.groupId, descriptor);
      const message = bob.page.locator('.message.in').filter({ has: bob.page.locator('.media.photo') });
      await message.getByRole('img', { name: 'Photo: beach.png' }).waitFor({ timeout: 60_000 });
      const blobs = (await server.app.media.blobs.list()).length;

      // The menu of a photo offers Forward…; Bob picks the family chat.
      await message.getByRole('button', { name: 'Message actions' }).click();
      await bob.page
        .getByRole('menu', { name: 'Message actions' })
        .getByRole('menuitem', { name: 'Forward…' })
        .click();
      const dialog = bob.page.getByRole('dialog', { name: 'Forward to…' });
      await dialog.getByRole('button', { name: /Family/ }).waitFor({ timeout: 60_000 });
      await checkScreen(bob.page, 'media-forward', ARTIFACTS);
      await dialog.getByRole('button', { name: /Family/ }).click();
      await bob.page.getByText('Forwarded to Family.').waitFor();

      const received = await carol.waitFor(family.groupId, 1, 60_000);
      const forwarded = received.find((m) => m.file !== undefined);
      expect(forwarded).toMatchObject({
        senderAccountId: bobId,
        file: descriptor,
        forwarded: { accountId: aliceUser.accountId },
      });
      const got = await readAll(
        downloadDecryptedFile({ baseUrl: server.url, token: carolUser.token }, forwarded!.file!),
      );
      expect(sha(got)).toBe(sha(photo));
      expect((await server.app.media.blobs.list()).length).toBe(blobs);

      // Bob's family chat shows the forwarded photo, its preview and where it came from.
      await chats.getByRole('button', { name: /Family/ }).click();
      await bob.page.getByRole('heading', { name: 'Family', exact: true }).waitFor();
      const out = bob.page.locator('.message.out').filter({ has: bob.page.locator('.media.photo') });
      await out.getByRole('img', { name: 'Photo: beach.png' }).waitFor();
      await out.getByText('Forwarded from Alice').waitFor();
      await checkScreen(bob.page, 'media-forwarded', ARTIFACTS);
    } finally {
      await Promise.all([alice.client.stop(), carol.client.stop()]);
      await bob.context.close();
    }
  }, 240_000);
});
