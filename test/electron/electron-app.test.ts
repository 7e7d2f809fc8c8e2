// The real tray app in Electron, driven by Playwright's _electron: the window opens on the
// dashboard's Overview, and the proxy toggle stops and starts the gateway. Skipped, with the
// reason, where no Electron binary can run (the same checks `npm start` makes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream } from '../mock-upstream.js';
import { T } from '../../renderer/src/lib/test-ids.js';
import { loadStartScript, ROOT } from './start-script.js';

const MAIN = join(ROOT, 'dist', 'app', 'main.js');
const { electronCheck } = await loadStartScript();
const check = electronCheck({ root: ROOT, env: { ...process.env, SLUICE_HEADLESS: undefined }, platform: process.platform });
const uiBuilt = existsSync(join(ROOT, 'renderer', 'dist', 'index.html'));
const skip = !check.ok ? check.why : !uiBuilt ? 'the dashboard is not built (renderer/dist is missing; npm run build makes it)' : false;

/** What main.ts exposes to this test (SLUICE_E2E=1) on globalThis in the main process. */
interface TrayHandle {
  gateway(): { url: string } | null;
  setEnabled(on: boolean): Promise<void>;
  quit(): Promise<void>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/health`);
    await r.arrayBuffer();
    return r.ok;
  } catch {
    return false;
  }
}

test('Electron: the window opens on Overview; the toggle stops and starts the gateway', { skip, timeout: 120_000 }, async () => {
  const { _electron } = await import('playwright-core');
  const mock = await startMockUpstream();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-electron-'));
  const app = await _electron.launch({
    executablePath: (check as { binary: string }).binary,
    args: [MAIN],
    env: {
      ...process.env as Record<string, string>,
      // A fresh home: no tools configured, so turning off asks nothing.
      HOME: join(dir, 'home'),
      SLUICE_DATA_DIR: join(dir, 'data'),
      SLUICE_USER_DATA_DIR: join(dir, 'chromium-profile'),
      SLUICE_PORT: '0',
      SLUICE_ANTHROPIC_BASE_URL: mock.url,
      SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKE-e2e',
      SLUICE_E2E: '1',
    },
  });
  try {
    const win = await app.firstWindow();
    await win.waitForURL(/\/ui\//, { timeout: 30_000 });
    await win.getByTestId(T.overview).waitFor({ timeout: 30_000 });

    const gatewayUrl = () => app.evaluate(() => (globalThis as unknown as { sluiceTray: TrayHandle }).sluiceTray.gateway()?.url ?? null);
    const first = await gatewayUrl();
    assert.ok(first, 'the gateway runs in the main process');
    assert.equal(await healthy(first), true);
    assert.equal(new URL(win.url()).origin, new URL(first).origin, 'the window shows this gateway’s dashboard');
    // The preload bridge answers the gateway page, with the admin token.
    const session = await win.evaluate(() => (globalThis as unknown as { sluice: { adminSession(): Promise<{ url: string; token: string } | null> } }).sluice.adminSession());
    assert.equal(session?.url, `${first}/ui/`);
    assert.ok(await win.evaluate(() => typeof (globalThis as { require?: unknown }).require === 'undefined'), 'no Node in the page');

    await app.evaluate(async () => { await (globalThis as unknown as { sluiceTray: TrayHandle }).sluiceTray.setEnabled(false); });
    assert.equal(await gatewayUrl(), null);
    assert.equal(await healthy(first), false, 'off closes the port');
    await win.waitForURL(/^data:text\/html/);

    await app.evaluate(async () => { await (globalThis as unknown as { sluiceTray: TrayHandle }).sluiceTray.setEnabled(true); });
    const second = await gatewayUrl();
    assert.ok(second);
    assert.equal(await healthy(second), true, 'on listens again');
    await win.waitForURL(/\/ui\//, { timeout: 30_000 });
    await win.getByTestId(T.overview).waitFor({ timeout: 30_000 });
  } finally {
    await app.close().catch(() => {});
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  }
});
