// Headless Chromium for the browser tests, driven through playwright-core:
// where the browser is, the skip reason when it is missing, and a launch on
// a fresh profile that the test's cleanups close and remove.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** skipWithoutChromium is a node:test `skip` option: false when Chromium is installed, otherwise why the test is skipped. */
export const skipWithoutChromium = existsSync(chromiumPath)
  ? false
  : `no Chromium at ${chromiumPath}: install it with "apt-get install -y chromium" to run the browser test`;

/**
 * launchChromium starts headless Chromium on a fresh profile (Playwright
 * passes it to Chromium as --user-data-dir) and registers with `defer` the
 * browser's close and the profile's removal.
 */
export async function launchChromium(defer) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'pushflo-chromium-'));
  defer(() => rmSync(profile, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    timeout: 30000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  defer(() => browser.close());
  return browser;
}
