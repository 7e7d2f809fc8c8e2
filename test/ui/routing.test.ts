// The Routing page end to end in headless Chromium against a real gateway with the admin
// extension, the mock upstream as anthropic and a second mock as an anthropic-compatible
// provider with its own env key: create a rule that sends claude-haiku-* there and see the
// Anthropic SDK served by it, get a refused rule explained inline, create an A/B split, spread
// sessions over both arms and read the per-arm comparison; reorder and delete with the keyboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { Page } from 'playwright-core';
import { pickArm, stickyPoint } from '../../proxy/routing/index.js';
import type { RoutingView } from '../../proxy/admin/api-types.js';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, launchBrowser } from './browser.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstream.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { T } from '../../renderer/src/lib/test-ids.js';

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
declare const document: { activeElement: { getAttribute(name: string): string | null } | null };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;

const ROOT = packageRoot();
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const UI_DIR = join(ROOT, 'renderer', 'dist');
const SECOND_KEY = 'test-key-2';
const AB_ARMS = [
  { name: 'incumbent', weight: 50, target: { provider: 'anthropic' } },
  { name: 'challenger', weight: 50, target: { provider: 'second', model: 'mock-large' } },
];

let s: AdminStack;
let second: MockUpstream;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const shots: string[] = [];

const byId = (id: string) => page.getByTestId(id);
const sel = (id: string, attrs: Record<string, string> = {}) => `[data-testid="${id}"]${Object.entries(attrs).map(([k, v]) => `[data-${k}="${v}"]`).join('')}`;
const sdk = () => new Anthropic({ baseURL: s.gw.url, apiKey: s.toolToken, maxRetries: 0 });
const routing = async (): Promise<RoutingView> => (await s.api('GET', '/routing')).json;

async function ask(model: string, session?: string) {
  return sdk().messages.create(
    { model, max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] },
    session ? { headers: { 'x-claude-code-session-id': session } } : {},
  ).withResponse();
}

before(async () => {
  if (skip) return;
  await mkdir(SHOTS, { recursive: true });
  second = await startMockUpstream();
  s = await startAdminStack({ admin: { uiDir: UI_DIR }, env: { SLUICE_SECOND_API_KEY: SECOND_KEY } });
  await s.gw.settings.update((st) => {
    st.providers.second = { type: 'anthropic-compatible', baseUrl: second.url, models: [], discoverModels: false, headers: {} };
  });
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? await browser.context.newPage();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
  await second?.close();
  if (process.env.SLUICE_UPDATE_SCREENSHOTS === '1') {
    const docs = join(ROOT, 'docs', 'screenshots');
    await mkdir(docs, { recursive: true });
    for (const p of shots) await copyFile(p, join(docs, p.split('/').at(-1)!));
  }
});

test('GET /routing lists providers without keys; a bad rule list is refused with every problem', { skip }, async () => {
  const view = await routing();
  assert.deepEqual(view.rules, []);
  const p = view.providers.find((x) => x.name === 'second');
  assert.ok(p, 'the second provider is listed');
  assert.equal(p.type, 'anthropic-compatible');
  assert.equal(p.baseUrl, second.url);
  assert.equal(p.keyEnv, 'SLUICE_SECOND_API_KEY');
  assert.equal(p.hasKey, true);
  assert.equal(view.providers.find((x) => x.name === 'anthropic')?.baseUrl, s.mock.url, 'the env override is where anthropic requests go');
  const raw = JSON.stringify(view);
  assert.ok(!raw.includes(SECOND_KEY) && !raw.includes('FAKEPROVIDERKEY'), 'no key in the routing view');

  const bad = await s.api('PUT', '/routing/rules', { rules: [
    { name: 'x', target: { provider: 'nowhere' } },
    { name: 'x', arms: [{ name: 'a', weight: 0, target: { provider: 'second' } }] },
  ] });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.type, 'error');
  assert.match(bad.json.error.message, /routing\.rules\.0\.target\.provider: "nowhere" is not a configured provider/);
  assert.match(bad.json.error.message, /routing\.rules\.1\.name: "x" is used by an earlier rule/);
  assert.match(bad.json.error.message, /routing\.rules\.1\.arms: the weights must add up to more than 0/);
  const shape = await s.api('PUT', '/routing/rules', { rules: [{ name: 'bad name!' }] });
  assert.equal(shape.status, 400);
  assert.match(shape.json.error.message, /routing\.rules\.0\.name: rule names are/);
  assert.deepEqual((await routing()).rules, [], 'nothing was written');
  const ab = await s.api('GET', '/routing/ab?since=yesterday');
  assert.equal(ab.status, 400);
});

test('a rule created on the page sends claude-haiku-* to the second provider', { skip }, async () => {
  await page.goto(s.admin.createLoginUrl());
  await byId(T.nav('routing')).click();
  await page.locator(`${sel(T.routing)}[data-ready]`).waitFor();
  await page.locator(sel(T.providerRow, { provider: 'second' })).waitFor();
  assert.equal(await byId(T.ruleRow).count(), 0);

  await byId(T.ruleAdd).click();
  await byId(T.ruleField('name')).fill('haiku to second');
  await byId(T.ruleField('model')).fill('claude-haiku-*');
  await byId(T.ruleField('provider')).selectOption('second');
  await byId(T.ruleField('targetModel')).fill('mock-small');
  await byId(T.ruleSave).click();
  await byId(T.ruleError).waitFor();
  assert.equal(await byId(T.ruleField('name')).getAttribute('aria-invalid'), 'true', 'the page checks the name before sending');
  assert.deepEqual((await routing()).rules, []);

  await byId(T.ruleField('name')).fill('haiku-to-second');
  // A fallback to a provider that does not exist: only the gateway knows, and says so inline.
  await byId(T.ruleField('fallbacks')).fill('nowhere/some-model');
  await byId(T.ruleSave).click();
  await page.locator(`${sel(T.ruleError)}:has-text("nowhere")`).waitFor();
  assert.match(await byId(T.ruleError).innerText(), /fallbacks\.0\.provider: "nowhere" is not a configured provider/);
  assert.deepEqual((await routing()).rules, []);

  await byId(T.ruleField('fallbacks')).fill('anthropic');
  await byId(T.ruleField('name')).press('Enter');
  await byId(T.rulesSaved).waitFor();
  assert.equal(await byId(T.ruleForm).count(), 0, 'the editor closes after a save');
  const rules = (await routing()).rules;
  assert.deepEqual(rules, [{ name: 'haiku-to-second', match: { model: 'claude-haiku-*' }, target: { provider: 'second', model: 'mock-small' }, fallbacks: [{ provider: 'anthropic' }] }]);
  const row = page.locator(sel(T.ruleRow, { rule: 'haiku-to-second' }));
  assert.match(await row.innerText(), /claude-haiku-\*/);
  assert.match(await row.innerText(), /second\/mock-small/);

  const before = s.mock.requests.length;
  const { data, response } = await ask('claude-haiku-4-5');
  assert.equal(data.type, 'message');
  assert.equal(response.headers.get('x-sluice-route'), 'haiku-to-second');
  assert.equal(second.requests.length, 1, 'the second provider served it');
  const got = second.requests[0]!;
  assert.equal(got.url, '/v1/messages');
  assert.equal(got.headers['x-api-key'], SECOND_KEY, 'with its own key');
  assert.equal(JSON.parse(got.body.toString('utf8')).model, 'mock-small');
  assert.equal(s.mock.requests.length, before, 'anthropic saw nothing');

  // A model no rule matches still goes to anthropic unchanged.
  const other = await ask('claude-sonnet-4-5');
  assert.equal(other.response.headers.get('x-sluice-route'), null);
  assert.equal(s.mock.requests.length, before + 1);
});

test('an A/B rule splits sessions over two arms and the comparison shows both', { skip }, async () => {
  await byId(T.ruleAdd).click();
  await byId(T.ruleField('name')).fill('sonnet-ab');
  await byId(T.ruleField('model')).fill('claude-sonnet-*');
  await byId(T.ruleField('kind')).selectOption('arms');
  await byId(T.ruleAddArm).click();
  await byId(T.ruleArmField(0, 'name')).fill('incumbent');
  await byId(T.ruleSave).click();
  assert.match(await byId(T.ruleError).innerText(), /marked fields/);
  assert.equal(await page.locator(`${sel(T.ruleForm)} >> text=at least two arms`).count(), 1);
  await byId(T.ruleAddArm).click();
  await byId(T.ruleArmField(1, 'name')).fill('challenger');
  await byId(T.ruleArmField(1, 'provider')).selectOption('second');
  await byId(T.ruleArmField(1, 'model')).fill('mock-large');
  await byId(T.ruleSave).click();
  await page.locator(sel(T.ruleRow, { rule: 'sonnet-ab', kind: 'arms' })).waitFor();
  assert.deepEqual((await routing()).rules[1], { name: 'sonnet-ab', match: { model: 'claude-sonnet-*' }, arms: AB_ARMS, fallbacks: [] });
  await page.locator(sel(T.abTable, { rule: 'sonnet-ab' })).waitFor();

  // Sessions chosen so each arm gets a known share: 3 incumbent, 2 challenger.
  const want = { incumbent: 3, challenger: 2 };
  const left = { ...want };
  const before = { anthropic: s.mock.requests.length, second: second.requests.length };
  for (let i = 0; left.incumbent + left.challenger > 0; i++) {
    const session = `ab-session-${i}`;
    const arm = pickArm(AB_ARMS, stickyPoint('sonnet-ab', session)).name as keyof typeof want;
    if (left[arm] === 0) continue;
    left[arm]--;
    const { response } = await ask('claude-sonnet-4-5', session);
    assert.equal(response.headers.get('x-sluice-route'), `sonnet-ab; arm=${arm}`);
  }
  assert.equal(s.mock.requests.length - before.anthropic, 3);
  assert.equal(second.requests.length - before.second, 2);
  await s.gw.flushUsage();

  await page.reload();
  const table = page.locator(sel(T.abTable, { rule: 'sonnet-ab' }));
  await table.locator(sel(T.abRow, { arm: 'incumbent', requests: '3' })).waitFor();
  await table.locator(sel(T.abRow, { arm: 'challenger', requests: '2' })).waitFor();
  const challenger = await table.locator(sel(T.abRow, { arm: 'challenger' })).innerText();
  assert.match(challenger, /0\.0%/, 'no errors');
  assert.match(challenger, /\d ms/, 'a latency');
  const api = (await s.api('GET', '/routing/ab?rule=sonnet-ab')).json;
  assert.deepEqual(api.rules.map((r: { rule: string; arms: { arm: string; requests: number }[] }) => [r.rule, r.arms.map((a) => [a.arm, a.requests])]),
    [['sonnet-ab', [['challenger', 2], ['incumbent', 3]]]]);
  await page.mouse.move(640, 4);
  const path = join(SHOTS, 'routing.png');
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
});

test('rules move up with the keyboard and delete; the order is what the gateway uses', { skip }, async () => {
  const up = page.locator(sel(T.ruleRow, { rule: 'sonnet-ab' })).getByTestId(T.ruleUp);
  await up.focus();
  await page.keyboard.press('Enter');
  await byId(T.rulesSaved).waitFor();
  assert.deepEqual((await routing()).rules.map((r) => r.name), ['sonnet-ab', 'haiku-to-second']);
  assert.deepEqual(await page.locator(sel(T.ruleRow)).evaluateAll((els) => els.map((e) => e.getAttribute('data-rule'))), ['sonnet-ab', 'haiku-to-second']);
  // Focus stays with the moved rule (its up button is now disabled, so on its down button).
  await page.waitForFunction((id) => document.activeElement?.getAttribute('data-testid') === id, T.ruleDown);
  assert.equal(await page.locator(sel(T.ruleRow, { rule: 'sonnet-ab' })).getByTestId(T.ruleDown).evaluate((e) => e === (e.ownerDocument as unknown as typeof document).activeElement), true);

  page.once('dialog', (d) => void d.accept());
  await page.locator(sel(T.ruleRow, { rule: 'haiku-to-second' })).getByTestId(T.ruleDelete).click();
  await page.locator(sel(T.ruleRow, { rule: 'haiku-to-second' })).waitFor({ state: 'detached' });
  assert.deepEqual((await routing()).rules.map((r) => r.name), ['sonnet-ab']);
  const n = second.requests.length;
  const { response } = await ask('claude-haiku-4-5');
  assert.equal(response.headers.get('x-sluice-route'), null, 'the deleted rule no longer routes');
  assert.equal(second.requests.length, n);
});
