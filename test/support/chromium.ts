import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium (or CHROMIUM_PATH) headless, as every browser test runs it: no sandbox (CI runs as
 * root), no background networking (nothing but the test's own server is spoken to), no GPU.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', ...extraArgs],
  });
}
