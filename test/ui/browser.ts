// Headless Chromium for the browser tests and the first-paint bench: Debian's /usr/bin/chromium
// through playwright-core, in a fresh user-data dir. Test support only.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null. Under CI=true a missing browser is a failure, not a skip. */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  return `${CHROMIUM} is missing (Debian: apt-get install chromium)`;
}

export async function launchBrowser(opts: { colorScheme?: 'light' | 'dark' } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'sluice-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    colorScheme: opts.colorScheme ?? 'light',
    reducedMotion: 'reduce',
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A real Chromium logged into the dashboard of a running stack, with every console error and
 * page error (and, with `failedResponses`, every HTTP error) pushed onto `problems` (tests
 * assert it stays empty).
 */
export async function openDashboard(
  stack: { gw: { url: string }; admin: { createLoginUrl(): string } },
  problems: string[],
  opts: { failedResponses?: boolean } = {},
): Promise<{ browser: Awaited<ReturnType<typeof launchBrowser>>; page: Page }> {
  const browser = await launchBrowser();
  const page = browser.context.pages()[0] ?? await browser.context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // Also every HTTP error the page met (a 404 from a missing route, a 500 from the API).
  if (opts.failedResponses) page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  await page.goto(stack.admin.createLoginUrl());
  await page.waitForURL(`${stack.gw.url}/ui/`);
  return { browser, page };
}
