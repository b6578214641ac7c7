import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describeUpload, uploadEncryptedFile } from '@courier/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystreamFile, sourceDigest } from '../bench/media-proof.ts';
import type { FsBlobStore } from '../packages/server/src/media/fs/fs-blob-store.ts';
import { IN_MEMORY_DOWNLOAD_LIMIT } from '../packages/web/src/ui/media-format.ts';
import { nextPhone, startTestServer, type TestServer } from './support/harness.ts';
import { secureDevice } from './support/secure.ts';
import { signUpInBrowser } from './support/web-person.ts';
import { launchChromium } from './support/chromium.ts';

const ARTIFACTS = process.env.COURIER_SCREENSHOTS ?? join(process.cwd(), 'artifacts/web');

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(path)) hash.update(part as Buffer);
  return hash.digest('hex');
}

/**
 * A file larger than the web app's in-memory limit (issue 14): saved by streaming it to disk through
 * the media service worker (an attachment response of chunks the device worker decrypts as they
 * arrive), never gathered into a Blob; the saved bytes equal what was sent, and a damaged blob fails
 * the save.
 */
describe('saving a large file in the browser', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer({ config: { media: { maxFileBytes: 64 * 1024 * 1024 } } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('streams a file over the in-memory limit to disk through the service worker; the bytes are identical', async () => {
    const bob = await signUpInBrowser(browser, server, 'Bob');
    const aliceUser = await server.register(nextPhone());
    const alice = await secureDevice(server, aliceUser);
    try {
      const bobId = (await aliceUser.http.lookup({ username: bob.username })).accountId;
      const chat = await alice.client.createGroup('Archive', [bobId]);
      const source = keystreamFile(IN_MEMORY_DOWNLOAD_LIMIT + 3 * 1024 * 1024 + 17);
      const uploaded = await uploadEncryptedFile(
        { baseUrl: server.url, token: aliceUser.token },
        chat.groupId,
        source,
      );
      await alice.client.sendFile(
        chat.groupId,
        describeUpload(uploaded, 'archive 2026.tar', 'application/x-tar'),
      );

      await bob.page
        .getByRole('list', { name: 'Your chats' })
        .getByRole('button', { name: /Archive/ })
        .click();
      await bob.page.getByRole('heading', { name: 'Archive', exact: true }).waitFor();
      const row = bob.page.locator('.message.in .media.file').filter({ hasText: 'archive 2026.tar' });
      await row.waitFor({ timeout: 60_000 });
      const [download] = await Promise.all([
        bob.page.waitForEvent('download', { timeout: 120_000 }),
        row.getByRole('button', { name: 'Download archive 2026.tar' }).click(),
      ]);
      // Through the service worker, as an attachment: not the whole-file (in-memory) path.
      expect(new URL(download.url()).pathname).toMatch(/^\/media-stream\//);
      expect(download.suggestedFilename()).toBe('archive 2026.tar');
      expect(await bob.page.getByRole('progressbar', { name: /Downloading/ }).count()).toBe(0);
      const path = await download.path();
      expect(await fileSha256(path)).toBe(await sourceDigest(source));

      // A damaged blob (one byte flipped near its end on the server): the save fails, it is not kept as done.
      const damaged = await uploadEncryptedFile(
        { baseUrl: server.url, token: aliceUser.token },
        chat.groupId,
        source,
      );
      const blobPath = join((server.app.media.blobs as FsBlobStore).dir, damaged.blobId);
      const fd = openSync(blobPath, 'r+');
      const at = statSync(blobPath).size - 1000;
      const byte = Buffer.alloc(1);
      readSync(fd, byte, 0, 1, at);
      writeSync(fd, Buffer.from([byte[0]! ^ 0x01]), 0, 1, at);
      closeSync(fd);
      await alice.client.sendFile(chat.groupId, describeUpload(damaged, 'damaged.tar', 'application/x-tar'));
      const bad = bob.page.locator('.message.in .media.file').filter({ hasText: 'damaged.tar' });
      await bad.waitFor({ timeout: 60_000 });
      const [failed] = await Promise.all([
        bob.page.waitForEvent('download', { timeout: 120_000 }),
        bad.getByRole('button', { name: 'Download damaged.tar' }).click(),
      ]);
      expect(await failed.failure()).not.toBeNull();
    } finally {
      await alice.client.stop();
      await bob.context.close();
    }
  }, 240_000);
});
