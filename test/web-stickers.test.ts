import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from './support/cli-process.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { checkScreen, signUpInBrowser } from './support/web-person.ts';
import { animatedWebp, stillPng } from './support/sticker-images.ts';
import { launchChromium } from './support/chromium.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

/**
 * Issue 16 in Chromium: a sticker pack made with the CLI (an animated WebP and a PNG) is added in
 * the web app by its link, a sticker is picked and sent from the composer, the animated WebP plays
 * (its frames change on screen), and the other person sees it. The new screens pass axe at 360 and
 * 1280 px.
 */
describe('stickers in the web app (Chromium)', { timeout: 1_200_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-web-stickers-'));
  let server: TestServer;
  let browser: Browser;
  const { courier, running } = cliRunner(dir, () => server.url);
  const step = (what: string) => process.stderr.write(`[web-stickers ${new Date().toISOString()}] ${what}\n`);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (page: Page, screen: string) => checkScreen(page, screen, ARTIFACTS);
  const signUp = (name: string) => signUpInBrowser(browser, server, name);

  /** Frames of an image as the browser's own decoder reads them. */
  const framesOf = (page: Page, selector: string) =>
    page.evaluate(async (sel) => {
      const img = document.querySelector(sel) as HTMLImageElement;
      const data = await (await fetch(img.currentSrc)).arrayBuffer();
      interface Track {
        frameCount: number;
        animated: boolean;
      }
      const Decoder = (
        globalThis as unknown as {
          ImageDecoder: new (init: object) => { tracks: { ready: Promise<void>; selectedTrack: Track } };
        }
      ).ImageDecoder;
      const decoder = new Decoder({ data, type: 'image/webp' });
      await decoder.tracks.ready;
      return {
        frames: decoder.tracks.selectedTrack.frameCount,
        animated: decoder.tracks.selectedTrack.animated,
      };
    }, selector);

  it('a pack made with the CLI is added by its link, a sticker is sent from the picker, it plays, and the other person sees it', async () => {
    // Alice makes the pack with the CLI.
    const alicePhone = nextPhone();
    expect((await courier('alice', 'register', alicePhone, '--request-only')).code).toBe(0);
    const signed = await courier(
      'alice',
      'register',
      alicePhone,
      '--code',
      server.sms.lastCode(alicePhone),
      '--accept-policy',
    );
    expect(signed.code, signed.err).toBe(0);
    const made = await courier('alice', 'sticker', 'pack', 'create', 'party_pack', 'Party', 'time');
    expect(made.code, made.err).toBe(0);
    const wave = join(dir, 'wave.webp');
    writeFileSync(wave, await animatedWebp(3, 512, 512, 150));
    const addedWave = await courier('alice', 'sticker', 'add', 'party_pack', wave, '👋');
    expect(addedWave.code, addedWave.err).toBe(0);
    const still = join(dir, 'still.png');
    writeFileSync(still, await stillPng(512, 320));
    const addedStill = await courier('alice', 'sticker', 'add', 'party_pack', still, '🎉');
    expect(addedStill.code, addedStill.err).toBe(0);

    step('CLI pack made');
    const bob = await signUp('Bob');
    const carol = await signUp('Carol');

    step('both signed up');
    // Bob follows the pack's link: the app shows the pack and adds it to his packs.
    await bob.page.goto(`${server.url}/addstickers/party_pack`);
    await bob.page.getByRole('heading', { name: 'Sticker packs' }).waitFor();
    await bob.page.getByRole('heading', { name: 'Party time' }).waitFor();
    await expect.poll(() => bob.page.locator('.sticker-thumb').count()).toBe(2);
    expect(new URL(bob.page.url()).pathname).toBe('/');
    await check(bob.page, 'sticker-packs-found');
    await bob.page.getByRole('button', { name: 'Add to my packs' }).click();
    await bob.page.getByText('This pack is in your packs.').waitFor();
    await bob.page.locator('.pack-list').filter({ hasText: 'Party time (2)' }).waitFor();

    step('pack added');
    // Bob writes to Carol and sends the animated sticker from the composer's picker.
    await bob.page.getByRole('button', { name: 'Back to chats' }).first().click();
    await bob.page.getByRole('button', { name: 'New chat' }).click();
    await bob.page.getByLabel('Username or phone number').fill(`@${carol.username}`);
    await bob.page.getByRole('button', { name: 'Open chat' }).click();
    await bob.page.getByRole('heading', { name: 'Carol', exact: true }).waitFor();
    await bob.page
      .getByRole('button', { name: 'Stickers', exact: true })
      .and(bob.page.locator(':enabled'))
      .last()
      .waitFor();
    await bob.page.locator('.composer').getByRole('button', { name: 'Stickers' }).click();
    const choice = bob.page.getByRole('button', { name: 'Send sticker 👋 from Party time' });
    await choice.waitFor();
    await check(bob.page, 'sticker-picker');
    // Keyboard: the sticker is a button, sent with Enter.
    await choice.focus();
    await choice.press('Enter');
    const mine = bob.page.locator('.message.out img.sticker');
    await mine.waitFor();
    await bob.page.locator('.message.out [data-state="stored"]').waitFor();
    await expect
      .poll(() => mine.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(512);

    step('sticker sent');
    // Carol gets the message (a request: Bob is not her contact yet) and sees the sticker, playing.
    await carol.page.locator('.requests-entry').filter({ hasText: '1 waiting' }).waitFor({ timeout: 60_000 });
    await carol.page.locator('.requests-entry').click();
    await carol.page
      .getByRole('list', { name: 'Waiting requests' })
      .getByRole('button', { name: /Bob/ })
      .click();
    const theirs = carol.page.locator('.message.in img.sticker');
    await theirs.waitFor({ timeout: 60_000 });
    expect(await theirs.getAttribute('alt')).toBe('Sticker 👋');
    await expect
      .poll(() => theirs.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(512);
    expect(await framesOf(carol.page, '.message.in img.sticker')).toEqual({ frames: 3, animated: true });
    // The frames (red, green, blue) follow one another on screen: the animation plays. Screenshots
    // of the image are taken until two differ (canvas drawImage would give only the first frame).
    await theirs.scrollIntoViewIfNeeded();
    const shots = new Set<string>();
    await expect
      .poll(
        async () => {
          shots.add(
            createHash('sha256')
              .update(await theirs.screenshot())
              .digest('hex'),
          );
          return shots.size;
        },
        { timeout: 60_000 },
      )
      .toBeGreaterThanOrEqual(2);
    await check(carol.page, 'sticker-received');

    step('Carol sees it playing');
    // The image is served public and immutable, named by its hash.
    const src = await theirs.getAttribute('src');
    const reply = await fetch(new URL(src!, server.url));
    expect(reply.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    await Promise.all([bob.context.close(), carol.context.close()]);
  });
});
