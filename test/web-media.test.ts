import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import {
  acceptRequestInBrowser,
  screenChecker,
  signUpInBrowser,
  type WebPerson,
} from './support/web-person.ts';
import { startTestServer, type TestServer } from './support/harness.ts';
import { ThrottleProxy } from './support/throttle-proxy.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

type Person = WebPerson;

/**
 * Issue 14 in the messenger (Chromium, real server, through a TCP proxy that can slow the network):
 * Alice pastes a photo, drops a video, records a voice note with the (fake) microphone and attaches
 * a file with the Attach button; the sender-made previews show at Bob's before any download; the
 * photo opens full size in the viewer and Escape closes it; the video plays while its bytes still
 * arrive (the media service worker answers the player's range requests from chunks the device
 * worker decrypts as they come); the voice note plays; the file downloads byte for byte; an upload
 * on a slow link shows its progress and is cancelled, and nothing is sent. Axe finds no serious or
 * critical violation and each screen is photographed at 360 and 1280 px.
 */
describe('media in the messenger: photo, video, voice note, file', () => {
  let server: TestServer;
  let proxy: ThrottleProxy;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    const port = Number(new URL(server.url).port);
    proxy = new ThrottleProxy({ host: '127.0.0.1', port });
    await proxy.start();
    browser = await launchChromium([
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    await server?.close();
  });

  const check = screenChecker(ARTIFACTS);

  const signUp = (name: string): Promise<Person> =>
    signUpInBrowser(browser, { url: proxy.url, sms: server.sms }, name, { acceptDialogs: true });

  const incoming = (page: Page) => page.locator('.message.in');

  it('sends a photo, a video, a voice note and a file; previews first, viewer, streaming, cancel', async () => {
    const alice = await signUp('Alice');
    const bob = await signUp('Bob');

    // Alice writes to Bob; Bob accepts her message request, so both have the chat open.
    await alice.page.getByRole('button', { name: 'New chat' }).click();
    await alice.page.getByLabel('Username or phone number').fill(`@${bob.username}`);
    await alice.page.getByRole('button', { name: 'Open chat' }).click();
    await alice.page.getByRole('heading', { name: 'Bob', exact: true }).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).and(alice.page.locator(':enabled')).waitFor();
    await alice.page.getByLabel('Message', { exact: true }).fill('Pictures coming');
    await alice.page.getByLabel('Message', { exact: true }).press('Enter');
    await acceptRequestInBrowser(bob.page, 'Alice');
    await bob.page.getByRole('button', { name: 'Attach file' }).and(bob.page.locator(':enabled')).waitFor();

    // 1. A photo, pasted (a 1200×800 PNG drawn in the page): the thumbnail made on Alice's page
    // shows at Bob's before he downloads anything.
    await alice.page.evaluate(async () => {
      const canvas = new OffscreenCanvas(1200, 800);
      const context = canvas.getContext('2d')!;
      const gradient = context.createLinearGradient(0, 0, 1200, 800);
      gradient.addColorStop(0, '#ff7a00');
      gradient.addColorStop(1, '#3a0ca3');
      context.fillStyle = gradient;
      context.fillRect(0, 0, 1200, 800);
      context.fillStyle = '#fff';
      context.font = '120px sans-serif';
      context.fillText('Sunset', 300, 420);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      const data = new DataTransfer();
      data.items.add(new File([blob], 'sunset.png', { type: 'image/png' }));
      document.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    });
    const photo = incoming(bob.page).locator('.media.photo');
    await photo.getByRole('img', { name: 'Photo: sunset.png' }).waitFor();
    const thumb = await photo.locator('img').evaluate((img: HTMLImageElement) => ({
      src: img.src,
      width: img.naturalWidth,
      height: img.naturalHeight,
    }));
    expect(thumb.src.startsWith('blob:')).toBe(true);
    // A thumbnail (at most 320 px on its longer side), not the photo: nothing was downloaded yet.
    expect(thumb.width).toBe(320);
    expect(thumb.height).toBe(213);
    await check(bob.page, 'media-chat');

    // The viewer: the full-size photo after download and decryption; Escape closes it.
    await photo.getByRole('button', { name: /Open photo sunset\.png/ }).click();
    const viewer = bob.page.getByRole('dialog', { name: 'Photo: sunset.png' });
    await viewer.locator('img[data-full="true"]').waitFor();
    expect(
      await viewer
        .locator('img[data-full="true"]')
        .evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]),
    ).toEqual([1200, 800]);
    await check(bob.page, 'media-viewer');
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });

    // 2. A video (WebM recorded from a canvas in Alice's page, 10 s of noise), dropped onto the
    // chat: Bob sees its poster frame, then plays it on a slow link and it
    // plays while the bytes still arrive.
    const videoSize = await alice.page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 480;
      canvas.height = 270;
      const context = canvas.getContext('2d')!;
      const recorder = new MediaRecorder(canvas.captureStream(25), {
        mimeType: 'video/webm;codecs=vp8',
        videoBitsPerSecond: 4_000_000,
      });
      const parts: Blob[] = [];
      recorder.ondataavailable = (event) => parts.push(event.data);
      const stopped = new Promise((resolve) => {
        recorder.onstop = resolve;
      });
      const draw = () => {
        for (let i = 0; i < 60; i++) {
          context.fillStyle = `hsl(${Math.random() * 360} 80% 50%)`;
          context.fillRect(Math.random() * 480, Math.random() * 270, 30, 30);
        }
      };
      draw();
      const timer = setInterval(draw, 40);
      recorder.start(500);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      recorder.stop();
      await stopped;
      clearInterval(timer);
      const file = new File(parts, 'clip.webm', { type: 'video/webm' });
      const data = new DataTransfer();
      data.items.add(file);
      for (const type of ['dragover', 'drop'])
        document.body.dispatchEvent(
          new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }),
        );
      return file.size;
    });
    expect(videoSize).toBeGreaterThan(300_000);
    const video = incoming(bob.page).locator('.media.video');
    const play = video.getByRole('button', { name: /Play video clip\.webm/ });
    await play.waitFor();
    // The poster is decoded after its button shows: wait for it (it failed once read at once in a full run).
    await expect
      .poll(() => play.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBe(320);
    // The network down to Bob now gives about an eighth of the video per second.
    proxy.downRate = Math.round(videoSize / 8);
    const before = proxy.downstreamBytes;
    await play.click();
    const player = video.locator('video');
    await player.waitFor();
    expect(await player.evaluate((v: HTMLVideoElement) => new URL(v.src).pathname)).toMatch(
      /^\/media-stream\//,
    );
    await expect
      .poll(() => player.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 })
      .toBeGreaterThan(0);
    // Read after the player had played a while: at that moment fewer bytes than the video had reached Bob.
    const deliveredWhilePlaying = proxy.downstreamBytes - before;
    expect(deliveredWhilePlaying).toBeLessThan(videoSize);
    // And they go on arriving as it plays.
    await expect
      .poll(() => proxy.downstreamBytes - before, { timeout: 30_000 })
      .toBeGreaterThan(deliveredWhilePlaying);
    proxy.downRate = undefined;
    await check(bob.page, 'media-video');

    // 3. A voice note recorded with the microphone (Chromium's fake device), played back by Bob.
    await alice.page.getByRole('button', { name: /Record voice note/ }).click();
    await alice.page
      .getByRole('status')
      .filter({ hasText: /Recording/ })
      .waitFor();
    await check(alice.page, 'media-recording');
    await alice.page.waitForTimeout(1500);
    await alice.page.getByRole('button', { name: 'Send voice note' }).click();
    const voice = incoming(bob.page).locator('.media.audio');
    await voice.getByRole('button', { name: /Play voice note \((?!0:00)\d+:\d\d\)/ }).click();
    const audio = voice.locator('audio');
    await audio.waitFor();
    await expect
      .poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 30_000 })
      .toBeGreaterThan(0);

    // 4. A file by the Attach button; Bob downloads it and gets the same bytes.
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(200_000)]);
    const [chooser] = await Promise.all([
      alice.page.waitForEvent('filechooser'),
      alice.page.getByRole('button', { name: 'Attach file' }).click(),
    ]);
    await chooser.setFiles({ name: 'plan.pdf', mimeType: 'application/pdf', buffer: pdf });
    const file = incoming(bob.page).locator('.media.file');
    await file.filter({ hasText: 'plan.pdf' }).waitFor();
    const [download] = await Promise.all([
      bob.page.waitForEvent('download'),
      file.getByRole('button', { name: 'Download plan.pdf' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('plan.pdf');
    expect(readFileSync(await download.path()).equals(pdf)).toBe(true);
    // The chat list names a file message by its file (never a blank line).
    await bob.page.getByRole('list', { name: 'Your chats' }).getByText('File: plan.pdf').waitFor();
    await check(bob.page, 'media-all');

    // 5. An upload on a slow link shows its progress and can be cancelled: nothing is sent.
    proxy.upRate = 150_000;
    const [bigChooser] = await Promise.all([
      alice.page.waitForEvent('filechooser'),
      alice.page.getByRole('button', { name: 'Attach file' }).click(),
    ]);
    const big = join(mkdtempSync(join(tmpdir(), 'courier-web-media-')), 'big.bin');
    writeFileSync(big, randomBytes(20_000_000));
    await bigChooser.setFiles(big);
    const bar = alice.page.getByRole('progressbar', { name: 'Uploading big.bin' });
    await bar.waitFor();
    await expect
      .poll(() => bar.evaluate((p: HTMLProgressElement) => p.value), { timeout: 30_000 })
      .toBeGreaterThan(0);
    expect(await bar.evaluate((p: HTMLProgressElement) => p.value < p.max)).toBe(true);
    await check(alice.page, 'media-upload');
    await alice.page.getByRole('button', { name: 'Cancel upload of big.bin' }).click();
    await bar.waitFor({ state: 'detached' });
    proxy.upRate = undefined;
    expect(await alice.page.getByRole('alert').count()).toBe(0);
    // A text after it arrives, and the cancelled file never does.
    await alice.page.getByLabel('Message', { exact: true }).fill('That was all');
    await alice.page.getByLabel('Message', { exact: true }).press('Enter');
    await incoming(bob.page).filter({ hasText: 'That was all' }).waitFor();
    expect(await bob.page.locator('.message').filter({ hasText: 'big.bin' }).count()).toBe(0);
    expect(await alice.page.locator('.message').filter({ hasText: 'big.bin' }).count()).toBe(0);

    rmSync(dirname(big), { recursive: true, force: true });
    await alice.context.close();
    await bob.context.close();
  }, 300_000);
});
