// The Providers page lists every provider in the registry with where its key comes from (OS
// keychain, environment variable, missing, not needed: never the key) and its models (configured
// plus the discovery cache), in headless Chromium; screenshots at 360 px, the window minimum and
// 1440 px with no sideways scroll and no console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, openDashboard } from './browser.js';
import { PROVIDER_KEY } from '../helpers.js';
import { createMemorySecretStore } from '../../proxy/store/secrets.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { windowOptions } from '../../app/window-policy.js';
import { T } from '../../renderer/src/lib/test-ids.js';

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
declare const document: { scrollingElement: { scrollWidth: number } | null };
declare const window: { innerWidth: number };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;
const UI_DIR = join(packageRoot(), 'renderer', 'dist');
const SHOTS = join(packageRoot(), 'test-results', 'screenshots', 'providers');
const DEEPSEEK_KEY = 'sk-deepseek-0123456789-SECRET-K3YX';
const OPENROUTER_MODELS = ['meta-llama/llama-4-maverick', 'qwen/qwen3-coder', 'mistralai/devstral-medium'];

let s: AdminStack;
let browser: Awaited<ReturnType<typeof openDashboard>>['browser'];
let page: Page;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  const secrets = createMemorySecretStore();
  await secrets.set('deepseek', DEEPSEEK_KEY);
  await secrets.set('deepseek:2', `${DEEPSEEK_KEY}-two-ABCD`);
  s = await startAdminStack({ admin: { uiDir: UI_DIR }, control: true, secrets });
  await s.gw.settings.update((st) => {
    st.providers.deepseek = { type: 'anthropic-compatible', baseUrl: 'https://api.deepseek.com/anthropic', models: ['deepseek-chat', 'deepseek-reasoner'], discoverModels: false, headers: {} };
    st.providers.openrouter = { type: 'openai-compatible', baseUrl: 'https://openrouter.ai/api/v1', models: [], discoverModels: true, headers: {} };
    st.providers.ollama = { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none', models: ['qwen3:8b'], discoverModels: false, headers: {} };
  });
  // What `sluice models` leaves behind for OpenRouter; an entry for another base URL is stale.
  await writeFile(join(s.dataDir, 'models-cache.json'), JSON.stringify({
    openrouter: { baseUrl: 'https://openrouter.ai/api/v1', fetchedAt: Date.now() - 60_000, models: OPENROUTER_MODELS.map((id) => ({ id, created: null, displayName: null, ownedBy: null })) },
    deepseek: { baseUrl: 'https://elsewhere.example/anthropic', fetchedAt: Date.now(), models: [{ id: 'stale-model' }] },
  }));
  ({ browser, page } = await openDashboard(s, problems));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
});

const card = (name: string) => page.locator(`[data-testid="${T.providerCard}"][data-provider="${name}"]`);

test('every provider in the registry with its key state and models, never a key', { skip }, async () => {
  const api = await s.api('GET', '/providers');
  assert.equal(api.status, 200);
  assert.deepEqual(api.json.providers.map((p: { name: string; key: { state: string } }) => [p.name, p.key.state]).sort(), [
    ['anthropic', 'env'], ['deepseek', 'keychain'], ['ollama', 'not-needed'], ['openrouter', 'missing'],
  ]);
  assert.ok(!api.body.toString().includes('SECRET') && !api.body.toString().includes(PROVIDER_KEY), 'no key material in the API answer');

  await page.goto(`${s.gw.url}/ui/#/providers`);
  await card('openrouter').waitFor();
  assert.equal(await page.getByTestId(T.providerCard).count(), 4);
  const text = async (name: string, id: string) => (await card(name).getByTestId(id).innerText()).replace(/\s+/g, ' ');

  assert.match(await text('anthropic', T.providerKey), new RegExp(`Environment SLUICE_ANTHROPIC_API_KEY …${PROVIDER_KEY.slice(-4)}`));
  assert.match(await text('deepseek', T.providerKey), /OS keychain key …K3YX · 2 keys/);
  assert.match(await text('openrouter', T.providerKey), /No key Add one below, or set SLUICE_OPENROUTER_API_KEY/);
  assert.match(await text('ollama', T.providerKey), /No key needed/);

  const deepseek = await text('deepseek', T.providerModels);
  assert.match(deepseek, /deepseek-chat deepseek-reasoner/);
  assert.ok(!deepseek.includes('stale-model'), 'a cache entry for another base URL is not shown');
  const openrouter = await text('openrouter', T.providerModels);
  for (const m of OPENROUTER_MODELS) assert.ok(openrouter.includes(m), `${m} in ${openrouter}`);
  assert.match(openrouter, /listed by the provider/);

  // The key form offers every provider that takes a key.
  const options = await page.getByTestId(T.keyProvider).locator('option').allInnerTexts();
  assert.deepEqual(options.sort(), ['anthropic', 'deepseek', 'openrouter']);
  const html = await page.content();
  assert.ok(!html.includes('SECRET') && !html.includes(PROVIDER_KEY), 'no key material on the page');
  assert.deepEqual(problems, []);
});

test('the Providers page at 360 px, the window minimum and 1440 px: no sideways scroll', { skip, timeout: 60_000 }, async () => {
  await mkdir(SHOTS, { recursive: true });
  for (const width of [360, windowOptions('preload.js').minWidth ?? 760, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${s.gw.url}/ui/#/providers`);
    await card('openrouter').waitFor();
    await page.getByTestId(T.tokenRow).first().waitFor().catch(() => {});
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.scrollingElement!.scrollWidth, innerWidth: window.innerWidth }));
    await page.screenshot({ path: join(SHOTS, `providers-${width}.png`), fullPage: true });
    assert.ok(scrollWidth <= innerWidth, `providers at ${width} px scrolls sideways: ${scrollWidth} > ${innerWidth}`);
  }
  assert.deepEqual(problems, []);
});
