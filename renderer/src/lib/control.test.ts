// The control state: loads config and status together, maps a missing extension to
// CONTROL_UNAVAILABLE, applies changes in place, and drops a stale load; the client's paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importRunes } from './testing/runes.js';
import type * as Mod from './control.svelte.js';
import { ApiError, createApi, type ControlSettings, type ControlStatusView } from './api.js';
import { describeError } from './errors.js';

const { ControlState } = await importRunes<typeof Mod>('./control.svelte.ts', import.meta.url);

const CONFIG: ControlSettings = {
  tokens: {}, budgets: { dailyUsd: null, monthlyUsd: null, sessionUsd: null, alertAt: [0.5, 0.8, 1] },
  guardrails: { policies: [] }, capture: { enabled: false, tokens: [], retentionHours: 24, maxTotalMb: 50 },
};
const STATUS: ControlStatusView = {
  capture: { enabled: false, dir: '/data/capture', files: 0, bytes: 0, oldestTs: null, retentionHours: 24, maxTotalMb: 50, tokens: [] },
  rateLimits: [], budgets: [], alerts: [],
};

function fakeApi(over: Partial<Mod.ControlApi> = {}) {
  const calls: string[] = [];
  let config = structuredClone(CONFIG);
  const api: Mod.ControlApi = {
    config: async () => { calls.push('config'); return structuredClone(config); },
    status: async () => { calls.push('status'); return { ...structuredClone(STATUS), capture: { ...STATUS.capture, enabled: config.capture.enabled } }; },
    setBudgets: async (p) => { calls.push(`budgets ${JSON.stringify(p)}`); config.budgets = { ...config.budgets, ...p }; return config.budgets; },
    savePolicy: async (n, p) => { calls.push(`policy ${n}`); config.tokens[n] = p; return p; },
    deletePolicy: async (n) => { calls.push(`delete ${n}`); delete config.tokens[n]; return { deleted: n }; },
    saveGuardrails: async (policies) => { calls.push('guardrails'); config.guardrails = { policies }; return config.guardrails; },
    testGuardrails: async () => ({ findings: [] }),
    setCapture: async (p) => { calls.push(`capture ${p.enabled}`); config.capture = { ...config.capture, ...p }; return config.capture; },
    alerts: async () => ({ alerts: [] }),
    ...over,
  };
  return { api, calls, get config() { return config; }, set config(c) { config = c; } };
}

test('loads config and status; changes show at once', async () => {
  const f = fakeApi();
  const c = new ControlState(f.api);
  await c.load();
  assert.deepEqual(f.calls, ['config', 'status']);
  assert.equal(c.captureOn, false);
  await c.setBudgets({ dailyUsd: 0.5 });
  assert.equal(c.config!.budgets.dailyUsd, 0.5);
  await c.savePolicy('cli', { models: ['claude-*'], dailyUsd: null, monthlyUsd: null, requestsPerMinute: 5, tokensPerMinute: null, burstRequests: null, burstTokens: null, expires: null, injectCache: false });
  assert.equal(c.config!.tokens.cli!.requestsPerMinute, 5);
  await c.deletePolicy('cli');
  assert.equal(c.config!.tokens.cli, undefined);
  await c.saveGuardrails([{ name: 'p', match: { tokens: ['*'] }, scanSystem: false, detectors: { email: 'flag' }, rules: [] }]);
  assert.equal(c.config!.guardrails.policies[0]!.name, 'p');
  await c.setCapture(true);
  assert.equal(c.captureOn, true, 'capture on: the banner shows');
  assert.equal(c.status!.capture.enabled, true);
  await c.setCapture(false);
  assert.equal(c.captureOn, false);
});

test('a gateway without the control extension reads as CONTROL_UNAVAILABLE; other errors stay themselves', async () => {
  const missing = new ControlState(fakeApi({ status: async () => { throw new ApiError('ADMIN_NOT_FOUND', 404, 'GET /admin/api/control/status is not an admin API route.'); } }).api);
  await missing.load();
  assert.equal(missing.unavailable, true);
  assert.equal(describeError(missing.error).title, 'Budgets and guardrails are not running');
  assert.equal(missing.captureOn, false);
  const down = new ControlState(fakeApi({ config: async () => { throw new ApiError('NETWORK', 0, 'The gateway did not answer.'); } }).api);
  await down.load();
  assert.equal(down.unavailable, false);
  assert.equal((down.error as ApiError).code, 'NETWORK');
});

test('a load that started before a change never overwrites it', async () => {
  const f = fakeApi();
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const stale = structuredClone(CONFIG);
  const c = new ControlState({ ...f.api, config: async () => { await gate; return stale; } });
  const loading = c.load();
  c.config = structuredClone(CONFIG);
  await c.setBudgets({ monthlyUsd: 10 });
  release();
  await loading;
  assert.equal(c.config!.budgets.monthlyUsd, 10);
});

test('the client sends control calls to /admin/api/control with JSON, and names the window as the source', async () => {
  const seen: { url: string; method: string; body: unknown; headers: Record<string, string> }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    seen.push({ url, method: init.method!, body: init.body === undefined ? undefined : JSON.parse(String(init.body)), headers: init.headers as Record<string, string> });
    return new Response('{}', { status: 200 });
  }) as unknown as typeof globalThis.fetch;
  const api = createApi({ baseUrl: 'http://127.0.0.1:1', fetch, token: 'test-admin' });
  await api.control.setBudgets({ dailyUsd: null });
  await api.control.savePolicy('a/b', { models: [], dailyUsd: null, monthlyUsd: null, requestsPerMinute: null, tokensPerMinute: null, burstRequests: null, burstTokens: null, expires: null, injectCache: false });
  await api.control.testGuardrails('hello');
  await api.control.testGuardrails('hello', 'strict');
  await api.control.alerts(20);
  assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
    'PUT http://127.0.0.1:1/admin/api/control/budgets',
    'PUT http://127.0.0.1:1/admin/api/control/policies/a%2Fb',
    'POST http://127.0.0.1:1/admin/api/control/guardrails/test',
    'POST http://127.0.0.1:1/admin/api/control/guardrails/test',
    'GET http://127.0.0.1:1/admin/api/control/alerts?limit=20',
  ]);
  assert.deepEqual(seen[0]!.body, { dailyUsd: null }, 'null clears: it is sent, not dropped');
  assert.deepEqual(seen[2]!.body, { text: 'hello' });
  assert.deepEqual(seen[3]!.body, { text: 'hello', policy: 'strict' });
  assert.equal(seen[0]!.headers['content-type'], 'application/json');
  assert.equal(seen[0]!.headers['x-sluice-source'], 'app');
  const browser = createApi({ baseUrl: 'http://127.0.0.1:1', fetch });
  await browser.control.setCapture({ enabled: false });
  assert.equal(seen.at(-1)!.headers['x-sluice-source'], undefined, 'the browser dashboard is audited as admin');
});
