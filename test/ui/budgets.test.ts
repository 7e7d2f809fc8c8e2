// The "Budgets & guardrails" page end to end in headless Chromium against a real gateway with the
// admin and control extensions over the mock upstream (whose replies carry usage, so costs are
// real): set a daily budget, spend it with the Anthropic SDK until the gateway refuses a request,
// see the threshold alerts; edit a token policy and a guardrail policy and watch both take
// effect on SDK requests; test text against the detectors; capture's banner on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { Page } from 'playwright-core';
import type { ControlStatus } from '../../proxy/control/index.js';
import type { ControlStatusView } from '../../proxy/admin/api-types.js';
import { startAdminStack, type AdminStack } from './admin-stack.js';
import { browserUnavailable, launchBrowser } from './browser.js';
import { packageRoot } from '../../proxy/admin/static-ui.js';
import { T } from '../../renderer/src/lib/test-ids.js';

// Compile-time: the control extension's status fits the dashboard's wire type (api-types.ts).
const statusFits = (x: ControlStatus): ControlStatusView => x;
void statusFits;

// The page-side callbacks run in Chromium; this file is checked without the DOM lib.
declare const document: { activeElement: { getAttribute(name: string): string | null } | null; documentElement: { dataset: Record<string, string | undefined> } };

const noBrowser = browserUnavailable();
const skip = noBrowser && process.env.CI !== 'true' ? noBrowser : false;

const ROOT = packageRoot();
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const UI_DIR = join(ROOT, 'renderer', 'dist');

let s: AdminStack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const shots: string[] = [];

async function shot(name: string, fullPage = false) {
  // No hover highlight left from the last click.
  await page.mouse.move(640, 4);
  await page.waitForTimeout(150);
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  shots.push(path);
}

const byId = (id: string) => page.getByTestId(id);
const sel = (id: string, attrs: Record<string, string> = {}) => `[data-testid="${id}"]${Object.entries(attrs).map(([k, v]) => `[data-${k}="${v}"]`).join('')}`;
const control = async (path: string) => (await s.api('GET', `/control${path}`)).json;
const sdk = () => new Anthropic({ baseURL: s.gw.url, apiKey: s.toolToken, maxRetries: 0 });
const ask = (text: string, model = 'claude-sonnet-4-5-20250929') => sdk().messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: text }] });

async function refusal(p: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Anthropic.APIError, String(err));
    return err;
  }
  assert.fail('the request was not refused');
}

/** The gateway's message from the error envelope the SDK parsed (its own `message` adds the raw JSON). */
function envelope(err: InstanceType<typeof Anthropic.APIError>): { type: string; message: string } {
  return (err.error as { error: { type: string; message: string } }).error;
}

async function openBudgets() {
  await page.goto(`${s.gw.url}/ui/#/budgets`);
  await page.locator(`${sel(T.budgets)}[data-ready]`).waitFor();
}

before(async () => {
  if (skip) return;
  await mkdir(SHOTS, { recursive: true });
  s = await startAdminStack({ control: true, admin: { uiDir: UI_DIR } });
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? await browser.context.newPage();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await s?.close();
  if (process.env.SLUICE_UPDATE_SCREENSHOTS === '1') {
    const docs = join(ROOT, 'docs', 'screenshots');
    await mkdir(docs, { recursive: true });
    for (const p of shots) await copyFile(p, join(docs, p.split('/').at(-1)!));
  }
});

test('signed in, with no budget set: Overview shows spend alone and the page shows no limits', { skip }, async () => {
  await page.goto(s.admin.createLoginUrl());
  await byId(T.spendToday).waitFor();
  assert.equal(await byId(T.overviewBudget('daily')).count(), 0, 'no budget bar without a budget');
  await byId(T.nav('budgets')).click();
  await page.locator(`${sel(T.budgets)}[data-ready]`).waitFor();
  const daily = page.locator(sel(T.budgetRow, { budget: 'daily' }));
  assert.equal(await daily.getAttribute('data-limit'), '');
  assert.equal(await daily.getByTestId(T.budgetBar).getAttribute('data-level'), 'none');
  assert.match(await daily.innerText(), /no limit/);
  assert.equal(await byId(T.alertRow).count(), 0);
  assert.equal(await byId(T.captureCard).getAttribute('data-state'), 'off', 'capture is off by default');
  assert.equal(await byId(T.captureBanner).count(), 0);
});

test('a daily budget is validated, then saved with the keyboard', { skip }, async () => {
  await byId(T.budgetInput('daily')).fill('-1');
  await byId(T.budgetSave('daily')).click();
  await byId(T.budgetError('daily')).waitFor();
  assert.match(await byId(T.budgetError('daily')).innerText(), /US dollars/);
  assert.equal(await byId(T.budgetInput('daily')).getAttribute('aria-invalid'), 'true');
  assert.equal((await control('/budgets')).dailyUsd, null, 'nothing was sent');
  await byId(T.budgetInput('daily')).fill('0.002');
  await byId(T.budgetInput('daily')).press('Enter');
  await byId(T.budgetSaved).waitFor();
  assert.equal((await control('/budgets')).dailyUsd, 0.002);
  assert.equal(await byId(T.budgetError('daily')).count(), 0);
  await page.locator(sel(T.budgetRow, { budget: 'daily', limit: '0.002' })).waitFor();
  assert.equal(await page.locator(sel(T.budgetRow, { budget: 'daily' })).getByTestId(T.budgetBar).getAttribute('data-level'), 'ok');
});

test('SDK requests spend the budget until one is refused; the alerts and the full bar show', { skip }, async () => {
  let admitted = 0;
  let refused: InstanceType<typeof Anthropic.APIError> | null = null;
  // Each reply costs $0.001146 at Sonnet 4.5 list prices (mock usage), so two spend $0.002.
  for (let i = 0; i < 6 && !refused; i++) {
    try {
      const msg = await ask(`hello ${i}`);
      assert.equal(msg.type, 'message');
      admitted++;
    } catch (err) {
      assert.ok(err instanceof Anthropic.APIError, String(err));
      refused = err;
    }
  }
  assert.ok(refused, 'a request was refused');
  assert.ok(admitted >= 1, 'the budget admitted requests before it ran out');
  assert.equal(refused.status, 429);
  assert.equal(envelope(refused).type, 'billing_error');
  assert.match(envelope(refused).message, /^spend limit (nearly )?reached · resets [A-Z][a-z]{2} \d{1,2} · Sluice refused this request: the daily budget \(all tools\) \(\$0\.0020, period \d{4}-\d{2}-\d{2}\) would be exceeded/);
  assert.match(envelope(refused).message, /To raise it: `sluice budget set daily <usd>`/);
  assert.match(refused.message, /daily budget/, 'the SDK error names the budget too');
  const forwarded = s.mock.requests.length;

  // The page was open: the alerts arrive on the stream, and the figures reload.
  const full = page.locator(sel(T.alertRow, { level: 'critical', kind: 'budget' }));
  await full.waitFor();
  assert.match(await full.innerText(), /daily budget \(all tools\) is at 100%/);
  assert.match(await full.innerText(), /Requests are refused until the period ends/);
  assert.match(await full.innerText(), /Critical/);
  assert.match(await full.locator('time').innerText(), /^\d{2}:\d{2}:\d{2}$/, 'today\'s alerts show their time');
  assert.equal(await page.locator(sel(T.alertRow, { level: 'info', kind: 'budget' })).count(), 1, 'the 50% alert');
  assert.match(await page.locator(sel(T.alertRow, { level: 'warning', kind: 'budget' })).innerText(), /at 80%/);
  await page.locator(`${sel(T.budgetRow, { budget: 'daily' })} ${sel(T.budgetBar, { level: 'over' })}`).waitFor();
  assert.equal(s.mock.requests.length, forwarded, 'the refused request never reached the upstream');
  await shot('budgets');

  // Overview's spend card now carries the budget, spent against it.
  await byId(T.nav('overview')).click();
  const card = byId(T.overviewBudget('daily'));
  await card.waitFor();
  assert.equal(await card.getByTestId(T.budgetBar).getAttribute('data-level'), 'over');
  assert.match(await card.innerText(), /of \$0\.0020 · 1\d\d%/);
  assert.equal(await byId(T.overviewBudget('monthly')).count(), 0, 'no monthly budget, no monthly bar');
});

test('a token policy is validated, saved, enforced, and removed', { skip }, async () => {
  await openBudgets();
  const row = page.locator(sel(T.policyRow, { token: 'test-tool' }));
  assert.equal(await row.getAttribute('data-policy'), 'none');
  await row.getByTestId(T.policyEdit).click();
  await byId(T.policyForm).waitFor();
  await byId(T.policyField('models')).fill('claude-haiku-*');
  await byId(T.policyField('requestsPerMinute')).fill('lots');
  await byId(T.policyField('expires')).fill('2026-02-30');
  await byId(T.policySave).click();
  await byId(T.policyFieldError('requestsPerMinute')).waitFor();
  assert.match(await byId(T.policyFieldError('expires')).innerText(), /YYYY-MM-DD/);
  assert.deepEqual(await control('/policies'), {}, 'nothing was sent');
  await byId(T.policyField('requestsPerMinute')).fill('100');
  await byId(T.policyField('burstRequests')).fill('150');
  await byId(T.policyField('expires')).fill('');
  await byId(T.policyField('injectCache')).check();
  await byId(T.policySave).click();
  await byId(T.policySaved).waitFor();
  assert.deepEqual((await control('/policies'))['test-tool'], { models: ['claude-haiku-*'], dailyUsd: null, monthlyUsd: null, requestsPerMinute: 100, tokensPerMinute: null, burstRequests: 150, burstTokens: null, expires: null, injectCache: true });
  assert.match(await row.innerText(), /claude-haiku-\*.*100 req\/min \(burst 150\)/s);
  // The live bucket, from the running gateway's limiter: full until a request takes from it.
  assert.equal(await row.getByTestId(T.policyBucket).innerText(), '150 of 150 requests left');

  // The policy runs before the budget: the model rule answers first.
  const denied = await refusal(ask('which model?'));
  assert.equal(denied.status, 403);
  assert.equal(envelope(denied).type, 'gateway_policy_denied');
  assert.match(envelope(denied).message, /may not use model "claude-sonnet-4-5-20250929" \(policy rule "models" allows claude-haiku-\*\)/);

  await row.getByTestId(T.policyEdit).click();
  await byId(T.policyDelete).click();
  await page.locator(sel(T.policyRow, { token: 'test-tool', policy: 'none' })).waitFor();
  assert.deepEqual(await control('/policies'), {});
});

test('the test box shows what the detectors find, by position, never the value', { skip }, async () => {
  const email = 'ada@example.com';
  // AWS's documented example key id: a real detector match that is no one's credential.
  const awsId = 'AKIAIOSFODNN7EXAMPLE';
  await byId(T.guardTestInput).fill(`write to ${email}\nwith ${awsId} please`);
  await byId(T.guardTestRun).click();
  const result = page.locator(sel(T.guardTestResult, { count: '2' }));
  await result.waitFor();
  assert.deepEqual(await byId(T.guardFinding).evaluateAll((els) => els.map((e) => `${e.getAttribute('data-detector')} ${e.getAttribute('data-action')}`)), ['email redact', 'aws_access_key redact']);
  const text = await result.innerText();
  assert.match(text, /Email addresses.*line 1, column 10, 15 characters/s);
  assert.match(text, /AWS access key ids.*line 2, column 6, 20 characters/s);
  assert.ok(!text.includes(email) && !text.includes(awsId), 'the findings never echo the value');
});

test('a guardrail policy: the gateway\'s own check is shown, then it saves and blocks', { skip }, async () => {
  await byId(T.guardAdd).click();
  await byId(T.guardForm).waitFor();
  assert.equal(await byId(T.guardDetector('anthropic_key')).inputValue(), 'redact', 'a new policy starts by redacting credentials');
  await byId(T.guardDetector('email')).selectOption('block');
  await byId(T.guardRuleAdd).click();
  const rule = byId(T.guardRule).last();
  await rule.getByTestId(T.guardRuleField('id')).fill('ticket');
  // Valid JavaScript, but it backtracks catastrophically: only the gateway's check catches it.
  await rule.getByTestId(T.guardRuleField('pattern')).fill('(a+)+$');
  await byId(T.guardSave).click();
  const err = page.locator(`${sel(T.guardForm)} ${sel(T.errorPanel)}`);
  await err.waitFor();
  assert.equal(await err.getAttribute('data-code'), 'GATEWAY_INVALID_REQUEST');
  assert.match(await err.innerText(), /nested quantifiers/);
  assert.deepEqual((await control('/guardrails')).policies, []);
  await rule.getByTestId(T.guardRuleField('pattern')).fill('PROJ-\\d+');
  await rule.getByTestId(T.guardRuleField('flags')).fill('i');
  await byId(T.guardSave).click();
  await byId(T.guardSaved).waitFor();
  const [saved] = (await control('/guardrails')).policies;
  assert.equal(saved.name, 'default');
  assert.deepEqual(saved.match.tokens, ['*']);
  assert.equal(saved.detectors.email, 'block');
  assert.equal(saved.detectors.phone, undefined, 'detectors left off are not listed');
  assert.deepEqual(saved.rules, [{ id: 'ticket', pattern: 'PROJ-\\d+', flags: 'i', action: 'flag' }]);
  await page.locator(sel(T.guardPolicy, { name: 'default' })).waitFor();

  await byId(T.guardTestPolicy).selectOption('default');
  await byId(T.guardTestInput).fill('mail ada@example.com about proj-42');
  await byId(T.guardTestRun).click();
  // The earlier check's result (also 2 findings) is still on screen until this one arrives: wait
  // for a finding only this run can produce, not just for "2 findings".
  await page.locator(sel(T.guardFinding, { detector: 'rule:ticket' })).waitFor();
  await page.locator(sel(T.guardTestResult, { count: '2' })).waitFor();
  assert.deepEqual(await byId(T.guardFinding).evaluateAll((els) => els.map((e) => `${e.getAttribute('data-detector')} ${e.getAttribute('data-action')}`)), ['email block', 'rule:ticket flag']);

  // Guardrails run before the budget, so the block answers (and the body never leaves).
  const forwarded = s.mock.requests.length;
  const blocked = await refusal(ask('please mail ada@example.com'));
  assert.equal(blocked.status, 400);
  assert.equal(envelope(blocked).type, 'gateway_guardrail_blocked');
  assert.match(envelope(blocked).message, /guardrail "email", policy "default"/);
  assert.ok(!blocked.message.includes('ada@example.com'), 'the refusal does not repeat the value');
  assert.equal(s.mock.requests.length, forwarded);
  await page.locator(sel(T.alertRow, { kind: 'guardrail' })).first().waitFor();
});

test('capture: confirmed before it turns on, then a banner on every page until turned off by keyboard', { skip }, async () => {
  await openBudgets();
  await byId(T.captureToggle).click();
  await byId(T.captureConfirm).waitFor();
  assert.equal((await control('/capture')).enabled, false, 'asking is not turning on');
  await byId(T.captureConfirm).click();
  await byId(T.captureBanner).waitFor();
  assert.equal((await control('/capture')).enabled, true);
  assert.equal(await byId(T.captureCard).getAttribute('data-state'), 'on');
  assert.match(await byId(T.captureBanner).innerText(), /Body capture is ON/);
  await shot('capture-banner');
  const pages = { overview: T.overview, sessions: T.sessions, spend: T.spend, providers: T.providers, routing: T.routing, budgets: T.budgets, tools: T.tools, settings: T.settings };
  for (const [nav, id] of Object.entries(pages)) {
    await byId(T.nav(nav)).click();
    await byId(id).waitFor();
    assert.ok(await byId(T.captureBanner).isVisible(), `the banner on ${nav}`);
  }
  // From the top of a freshly loaded page, Tab reaches the banner's button.
  await page.goto(`${s.gw.url}/ui/#/spend`);
  await byId(T.captureBanner).waitFor();
  let reached = false;
  for (let i = 0; i < 25 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate((id) => document.activeElement?.getAttribute('data-testid') === id, T.captureBannerOff);
  }
  assert.ok(reached, 'the turn-off button is in the tab order');
  await page.keyboard.press('Enter');
  await byId(T.captureBanner).waitFor({ state: 'detached' });
  assert.equal((await control('/capture')).enabled, false);
  const audit = (await control('/audit')).entries.map((e: { action: string }) => e.action);
  assert.deepEqual(audit.slice(0, 2), ['capture.off', 'capture.on']);
});

test('dark theme', { skip }, async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openBudgets();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await shot('budgets-dark');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('a gateway without the control extension: the page says so, and nothing else breaks', { skip }, async () => {
  const bare = await startAdminStack({ admin: { uiDir: UI_DIR } });
  const other = await browser.context.newPage();
  try {
    await other.goto(bare.admin.createLoginUrl());
    await other.getByTestId(T.spendToday).waitFor();
    await other.getByTestId(T.nav('budgets')).click();
    const panel = other.locator(`${sel(T.budgets)} ${sel(T.errorPanel)}`);
    await panel.waitFor();
    assert.equal(await panel.getAttribute('data-code'), 'CONTROL_UNAVAILABLE');
    assert.match(await panel.innerText(), /not running/);
    assert.equal(await other.getByTestId(T.captureBanner).count(), 0);
  } finally {
    await other.close();
    await bare.close();
  }
});
