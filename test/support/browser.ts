import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export interface Browser {
  context: BrowserContext;
  /** Requests the page tried to make to anywhere but the allowed origins (they were refused). */
  offOrigin: string[];
  close(): Promise<void>;
}

/**
 * Debian's headless Chromium with a fresh profile; any request to another origin than the given
 * ones is refused and recorded, so a test can assert that the page loads nothing from outside.
 */
export async function launchBrowser(opts: { allowOrigins: () => string[] }): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'vigil-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  // tsx compiles the tests with keepNames, so functions the tests hand to page.evaluate call a
  // __name helper that only exists in Node; the page gets an identity stand-in.
  await context.addInitScript('globalThis.__name = (f) => f;');
  const offOrigin: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (opts.allowOrigins().some((o) => url.startsWith(`${o}/`) || url === o)) {
      await route.continue();
      return;
    }
    offOrigin.push(url);
    await route.abort('blockedbyclient');
  });
  return {
    context,
    offOrigin,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
