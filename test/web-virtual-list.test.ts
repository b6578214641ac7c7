import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';

/**
 * The virtualised list the app uses for group members and chats, in Chromium with 5,000 rows: the
 * page holds only the rows in view (so scrolling stays smooth at any size), every row is reachable
 * by scrolling, and each says where it is in the whole list.
 */
describe('the virtualised list (Chromium, 5,000 rows)', () => {
  let browser: Browser;
  let bundle: string;

  beforeAll(async () => {
    const result = await build({
      entryPoints: [new URL('./browser/virtual-list-page.tsx', import.meta.url).pathname],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      write: false,
      logLevel: 'silent',
    });
    bundle = result.outputFiles[0]!.text;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders only the rows in view and reaches the last one by scrolling', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
    await page.setContent('<!doctype html><html lang="en"><body><div id="app"></div></body></html>');
    await page.addScriptTag({ content: bundle });
    const list = page.getByRole('list', { name: 'Members' });
    await list.getByRole('button', { name: 'Member 1', exact: true }).waitFor();
    const rows = () => list.getByRole('listitem').count();
    // 600 px of 52 px rows, plus a few either side: nowhere near 5,000.
    expect(await rows()).toBeLessThan(30);
    expect(await list.getByRole('listitem').first().getAttribute('aria-setsize')).toBe('5000');

    // Scrolling to the end brings the last member, still with a small page.
    await page.locator('.virtual').evaluate((element) => {
      element.scrollTop = element.scrollHeight;
    });
    await list.getByRole('button', { name: 'Member 5000', exact: true }).waitFor();
    expect(await list.getByRole('listitem').last().getAttribute('aria-posinset')).toBe('5000');
    expect(await rows()).toBeLessThan(30);

    // And the middle, as a person dragging the scrollbar would.
    await page.locator('.virtual').evaluate((element) => {
      element.scrollTop = 2500 * 52;
    });
    await list.getByRole('button', { name: 'Member 2501', exact: true }).waitFor();
    expect(await rows()).toBeLessThan(30);
    await page.close();
  });
});
