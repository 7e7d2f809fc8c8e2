// `sluice route test`, `sluice ab report` and `sluice models` through runCli, against a real
// settings file, a real SQLite ledger and the OpenAI-compatible mock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../proxy/cli-main.js';
import { openSettings } from '../../proxy/store/settings.js';
import { openLedger } from '../../proxy/ledger/index.js';
import { createMemorySecretStore } from '../../proxy/store/secrets.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import { tempDir } from '../helpers.js';
import { startOpenAiMock, type OpenAiMock } from './openai-mock.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let oai: OpenAiMock;
before(async () => {
  dir = await tempDir('sluice-routing-cli-');
  oai = await startOpenAiMock();
  const settings = await openSettings(dir.path);
  await settings.update((s) => {
    s.providers.deepseek = { type: 'openai-compatible', baseUrl: oai.baseUrl, models: ['deepseek-coder'] } as never;
    s.providers.anthropic.discoverModels = false;
    s.routing.rules = [
      { name: 'bg', match: { scenario: 'background' }, target: { provider: 'deepseek', model: 'deepseek-chat' }, fallbacks: [{ provider: 'anthropic' }] },
      { name: 'trial', match: { model: 'claude-sonnet-*', tool: 'cline' }, arms: [{ name: 'a', weight: 1, target: { provider: 'anthropic' } }, { name: 'b', weight: 1, target: { provider: 'deepseek', model: 'deepseek-chat' } }] },
    ] as never;
  });
});
after(async () => {
  await oai.close();
  await dir.cleanup();
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const secrets = createMemorySecretStore();
  const io: CliIo = {
    stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => '',
    env: { SLUICE_DATA_DIR: dir.path, SLUICE_DEEPSEEK_API_KEY: 'test-key-deepseek' }, platform: 'linux', home: dir.path,
    secrets: () => secrets,
  };
  const code = await runCli(args, io);
  return { code, out, err };
}

test('route test names the rule and the chain; an unmatched model stays first-party', async () => {
  const r = await cli(['route', 'test', 'claude-haiku-4-5']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'claude-haiku-4-5: rule bg\n  target   deepseek model=deepseek-chat\n  fallback anthropic (model kept)\n');
  const none = await cli(['route', 'test', 'claude-opus-4-8']);
  assert.match(none.out, /no rule matches; first-party anthropic/);
  const j = JSON.parse((await cli(['route', 'test', 'claude-sonnet-4-6', '--tool', 'cline', '--session', 's-1', '--json'])).out);
  assert.equal(j.rule, 'trial');
  assert.ok(j.arm === 'a' || j.arm === 'b');
  const again = JSON.parse((await cli(['route', 'test', 'claude-sonnet-4-6', '--tool', 'cline', '--session', 's-1', '--json'])).out);
  assert.equal(again.arm, j.arm, 'same session, same arm');
  const bad = await cli(['route', 'test', 'x', '--scenario', 'nope']);
  assert.equal(bad.code, 2);
});

test('ab report compares the arms recorded in the ledger', async () => {
  const ledger = openLedger(join(dir.path, 'ledger.sqlite'));
  const base = Date.UTC(2026, 10, 20, 12);
  for (let i = 0; i < 10; i++) {
    ledger.record(makeRow({ id: `a${i}`, tsStart: base + i, tsEnd: base + i + 1, route: 'trial', arm: 'a', totalMs: 100 * (i + 1), outputTokens: 10, costPico: 2_000_000_000, billed: true, servedModel: 'claude-sonnet-4-6' }));
    ledger.record(makeRow({ id: `b${i}`, tsStart: base + i, tsEnd: base + i + 1, route: 'trial', arm: 'b', totalMs: 50, outputTokens: 30, costPico: null, billed: true, status: i < 2 ? 500 : 200, errorType: i < 2 ? 'api_error' : null, servedModel: 'deepseek-chat' }));
  }
  ledger.record(makeRow({ id: 'plain', tsStart: base, tsEnd: base + 1, route: 'bg', arm: null }));
  ledger.flush();
  ledger.close();
  const r = await cli(['ab', 'report', '--json', '--since', '2026-11-01']);
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out) as { rules: { rule: string; arms: { arm: string; requests: number; errorRate: number; latencyP50Ms: number; latencyP95Ms: number; costPerRequestUsd: number | null; unpricedRequests: number; outputTokensPerRequest: number }[] }[] };
  assert.deepEqual(rep.rules.map((x) => x.rule), ['trial']);
  const [a, b] = rep.rules[0]!.arms;
  assert.equal(a!.requests, 10);
  assert.equal(a!.errorRate, 0);
  assert.equal(a!.latencyP50Ms, 500);
  assert.equal(a!.latencyP95Ms, 1000);
  assert.equal(a!.costPerRequestUsd, 0.002);
  assert.equal(b!.errorRate, 0.2);
  assert.equal(b!.costPerRequestUsd, null);
  assert.equal(b!.unpricedRequests, 10);
  assert.equal(b!.outputTokensPerRequest, 30);
  const text = await cli(['ab', 'report', '--rule', 'trial']);
  // Numbers through the shared formatter (proxy/format.ts), in the shared 100-column table.
  assert.match(text.out, /trial\s+a\s+10\s+0%\s+500 ms\s+1\.00 s\s+\$0\.0020\s+10\s+claude-sonnet-4-6/);
  assert.match(text.out, /trial\s+b\s+10\s+20%\s+50 ms\s+50 ms\s+unpriced\s+30\s+deepseek-chat/);
  for (const line of text.out.split('\n')) assert.ok(line.length <= 100, line);
  const none = await cli(['ab', 'report', '--rule', 'other']);
  assert.match(none.out, /No A\/B requests/);
});

test('models lists configured and discovered ids, and caches them', async () => {
  const r = await cli(['models']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^deepseek \(openai-compatible, http:\/\/127\.0\.0\.1:\d+\/v1\)$/m);
  assert.match(r.out, /^ {2}deepseek\/deepseek-coder\n {2}deepseek\/deepseek-chat\n {2}deepseek\/deepseek-reasoner$/m);
  const asked = oai.requests.filter((q) => q.url === '/v1/models').length;
  assert.equal(asked, 1);
  await cli(['models']);
  assert.equal(oai.requests.filter((q) => q.url === '/v1/models').length, 1, 'second run served from models-cache.json');
  await cli(['models', '--refresh']);
  assert.equal(oai.requests.filter((q) => q.url === '/v1/models').length, 2);
});
