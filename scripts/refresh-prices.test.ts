// Tests for the LiteLLM price refresh: entry validation, the refresh plan, and the CLI writing a
// real file in a temp dir. The LiteLLM fixture below is hand-written in LiteLLM's format
// (USD per token); expected per-million values are worked out by hand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, planRefresh, runRefresh, validateLiteLlmEntry } from './refresh-prices.js';
import { parsePriceTable, type PriceTable } from '../proxy/pricing/index.js';

const EXISTING: PriceTable = {
  updated: '2026-01-01',
  source: 'Anthropic pricing page',
  currency: 'USD',
  unit: 'per_million_tokens',
  models: {
    'claude-sonnet-4-5-20250929': {
      family: 'anthropic', input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3,
      aliases: ['claude-sonnet-4-5'], webSearchPer1k: 10,
    },
    'claude-haiku-4-5-20251001': {
      family: 'anthropic', input: 1, output: 5, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1,
      aliases: ['claude-haiku-4-5'], note: 'kept by the refresh',
    },
    'claude-3-opus-20240229': {
      family: 'anthropic', input: 15, output: 75, cacheWrite5m: 18.75, cacheWrite1h: 30, cacheRead: 1.5, aliases: [],
    },
  },
};

const LITELLM = {
  sample_spec: { input_cost_per_token: 0, litellm_provider: 'one of https://docs.litellm.ai/docs/providers' },
  // Unchanged: float noise (3.75e-06 x 10^6 = 3.7499999999999996) must not count as a change.
  'claude-sonnet-4-5': {
    litellm_provider: 'anthropic', mode: 'chat',
    input_cost_per_token: 3e-06, output_cost_per_token: 1.5e-05,
    cache_creation_input_token_cost: 3.75e-06, cache_creation_input_token_cost_above_1hr: 6e-06,
    cache_read_input_token_cost: 3e-07,
    search_context_cost_per_query: { search_context_size_low: 0.01, search_context_size_medium: 0.01, search_context_size_high: 0.01 },
  },
  // Changed (hypothetical price cut) and gains a long-context tier with one derived cache price.
  'claude-haiku-4-5-20251001': {
    litellm_provider: 'anthropic', mode: 'chat',
    input_cost_per_token: 8e-07, output_cost_per_token: 4e-06,
    cache_creation_input_token_cost: 1e-06, cache_creation_input_token_cost_above_1hr: 1.6e-06,
    cache_read_input_token_cost: 8e-08,
    input_cost_per_token_above_200k_tokens: 1.6e-06, output_cost_per_token_above_200k_tokens: 6e-06,
    cache_creation_input_token_cost_above_200k_tokens: 2e-06, cache_read_input_token_cost_above_200k_tokens: 1.6e-07,
  },
  // The known-bad LiteLLM shape: a 1-hour price of $6/M on a $15/M model (should be $30/M).
  'claude-3-opus-20240229': {
    litellm_provider: 'anthropic', mode: 'chat',
    input_cost_per_token: 1.5e-05, output_cost_per_token: 7.5e-05,
    cache_creation_input_token_cost: 1.875e-05, cache_creation_input_token_cost_above_1hr: 6e-06,
    cache_read_input_token_cost: 1.5e-06,
  },
  // New model, dated and undated, no 1-hour price: derived as 2x input = $4/M.
  'claude-nova-9-20261201': {
    litellm_provider: 'anthropic', mode: 'chat',
    input_cost_per_token: 2e-06, output_cost_per_token: 1e-05,
    cache_creation_input_token_cost: 2.5e-06, cache_read_input_token_cost: 2e-07,
  },
  'claude-nova-9': {
    litellm_provider: 'anthropic', mode: 'chat',
    input_cost_per_token: 2e-06, output_cost_per_token: 1e-05,
    cache_creation_input_token_cost: 2.5e-06, cache_read_input_token_cost: 2e-07,
  },
  // Read price contradicts input (0.2x): rejected.
  'anthropic/claude-bad-read-1': {
    litellm_provider: 'anthropic', mode: 'chat',
    input_cost_per_token: 1e-06, output_cost_per_token: 5e-06,
    cache_creation_input_token_cost: 1.25e-06, cache_read_input_token_cost: 2e-07,
  },
  // No 5-minute price: rejected (only the 1-hour price may be derived).
  'claude-no-cache-1': {
    litellm_provider: 'anthropic', mode: 'chat', input_cost_per_token: 1e-06, output_cost_per_token: 5e-06,
  },
  // Not first-party Anthropic: skipped (Bedrock's regional prices differ).
  'anthropic.claude-3-opus-20240229-v1:0': {
    litellm_provider: 'bedrock', input_cost_per_token: 1.65e-05, output_cost_per_token: 8.25e-05,
  },
  'gpt-4o': { litellm_provider: 'openai', input_cost_per_token: 2.5e-06, output_cost_per_token: 1e-05 },
};

test('validateLiteLlmEntry converts per-token prices to per-million and accepts consistent entries', () => {
  const v = validateLiteLlmEntry(LITELLM['claude-sonnet-4-5']);
  assert.deepEqual(v, {
    ok: true,
    prices: { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3, webSearchPer1k: 10 },
    derived: [],
  });
});

test('validateLiteLlmEntry rejects a wrong 1-hour price with the reason', () => {
  const v = validateLiteLlmEntry(LITELLM['claude-3-opus-20240229']);
  assert.deepEqual(v, { ok: false, reason: 'cacheWrite1h $6/MTok contradicts input $15/MTok (expected 2x = $30/MTok)' });
});

test('validateLiteLlmEntry rejects a wrong read price and a missing 5-minute price', () => {
  const bad = validateLiteLlmEntry(LITELLM['anthropic/claude-bad-read-1']);
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.reason : '', /^cacheRead \$0\.2\/MTok contradicts input \$1\/MTok \(expected 0\.1x = \$0\.1\/MTok\)$/);
  assert.deepEqual(validateLiteLlmEntry(LITELLM['claude-no-cache-1']), { ok: false, reason: 'cacheWrite5m price missing' });
  assert.deepEqual(validateLiteLlmEntry({ output_cost_per_token: 1e-6 }), { ok: false, reason: 'input price missing or not a non-negative number' });
  assert.deepEqual(validateLiteLlmEntry('x'), { ok: false, reason: 'not an object' });
});

test('validateLiteLlmEntry derives a missing 1-hour price as 2x input, and long-context cache prices', () => {
  const v = validateLiteLlmEntry(LITELLM['claude-nova-9']);
  assert.ok(v.ok);
  assert.equal(v.prices.cacheWrite1h, 4);
  assert.deepEqual(v.derived, ['cacheWrite1h derived as 2x input = $4/MTok']);
  const long = validateLiteLlmEntry(LITELLM['claude-haiku-4-5-20251001']);
  assert.ok(long.ok);
  // Above 200k: $1.60 in; 5m $2 (1.25x), 1h derived $3.20 (2x), read $0.16 (0.1x), out $6.
  assert.deepEqual(long.prices.longContext, { thresholdInputTokens: 200_000, input: 1.6, output: 6, cacheWrite5m: 2, cacheWrite1h: 3.2, cacheRead: 0.16 });
  assert.deepEqual(long.derived, ['above 200k: cacheWrite1h derived as 2x input = $3.2/MTok']);
});

test('planRefresh adds, changes, keeps and rejects as it should', () => {
  const plan = planRefresh(EXISTING, LITELLM, { today: '2026-11-21' });
  assert.deepEqual(plan.added, ['claude-nova-9-20261201']);
  assert.deepEqual(plan.unchanged, ['claude-sonnet-4-5-20250929']);
  assert.deepEqual(plan.changed.map((c) => c.id), ['claude-haiku-4-5-20251001']);
  assert.deepEqual(plan.changed[0]?.changes.find((c) => c.field === 'input'), { field: 'input', from: 1, to: 0.8 });
  assert.deepEqual(plan.changed[0]?.changes.find((c) => c.field === 'longContext.output'), { field: 'longContext.output', from: null, to: 6 });
  assert.deepEqual(plan.rejected.map((r) => r.key).sort(), ['anthropic/claude-bad-read-1', 'claude-3-opus-20240229', 'claude-no-cache-1']);
  assert.equal(plan.skipped, 2);

  const t = plan.table;
  assert.equal(t.updated, '2026-11-21');
  assert.match(t.source, /^Anthropic pricing page; refreshed from LiteLLM/);
  // The rejected entry left the existing (correct) 1-hour price alone.
  assert.equal(t.models['claude-3-opus-20240229']?.cacheWrite1h, 30);
  // Aliases and notes survive a price change.
  assert.deepEqual(t.models['claude-haiku-4-5-20251001']?.aliases, ['claude-haiku-4-5']);
  assert.equal(t.models['claude-haiku-4-5-20251001']?.note, 'kept by the refresh');
  assert.equal(t.models['claude-haiku-4-5-20251001']?.input, 0.8);
  // The undated id became the alias of the dated snapshot.
  assert.deepEqual(t.models['claude-nova-9-20261201'], {
    family: 'anthropic', input: 2, output: 10, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.2, aliases: ['claude-nova-9'],
  });
  assert.equal(t.models['claude-nova-9'], undefined);
  // The input table was not mutated.
  assert.equal(EXISTING.models['claude-haiku-4-5-20251001']?.input, 1);
  assert.doesNotThrow(() => parsePriceTable(t));

  const summary = formatSummary(plan);
  assert.match(summary, /^added 1, changed 1, unchanged 1, rejected 3, skipped 2 non-Anthropic entries/);
  assert.match(summary, /! rejected claude-3-opus-20240229: cacheWrite1h \$6\/MTok contradicts input \$15\/MTok/);
  assert.match(summary, /~ claude-haiku-4-5-20251001: input 1 -> 0\.8/);
});

test('planRefresh rejects both entries when two spellings of one model disagree', () => {
  const plan = planRefresh(EXISTING, {
    'claude-sonnet-4-5': LITELLM['claude-sonnet-4-5'],
    'claude-sonnet-4-5-20250929': { ...LITELLM['claude-sonnet-4-5'], output_cost_per_token: 1.6e-05 },
  }, { today: '2026-11-21' });
  assert.deepEqual(plan.rejected.map((r) => r.key).sort(), ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929']);
  assert.equal(plan.table.models['claude-sonnet-4-5-20250929']?.output, 15);
  assert.equal(plan.table.updated, '2026-01-01');
});

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-refresh-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('CLI: --dry-run writes nothing; a real run writes the refreshed table', async () => {
  const source = join(dir, 'litellm.json');
  const out = join(dir, 'prices.json');
  await writeFile(source, JSON.stringify(LITELLM));
  const original = `${JSON.stringify(EXISTING, null, 2)}\n`;
  await writeFile(out, original);
  const lines: string[] = [];
  const deps = { cwd: dir, now: () => new Date('2026-11-21T10:00:00Z'), log: (l: string) => lines.push(l) };

  assert.equal(await runRefresh(['litellm.json', '--out', 'prices.json', '--dry-run'], deps), 0);
  assert.equal(await readFile(out, 'utf8'), original);
  assert.ok(lines.some((l) => l.includes('dry run: nothing written')));

  lines.length = 0;
  assert.equal(await runRefresh(['litellm.json', '--out', 'prices.json'], deps), 0);
  const written = parsePriceTable(JSON.parse(await readFile(out, 'utf8')));
  assert.equal(written.updated, '2026-11-21');
  assert.equal(written.models['claude-nova-9-20261201']?.cacheWrite1h, 4);
  assert.equal(written.models['claude-3-opus-20240229']?.cacheWrite1h, 30);
  assert.ok(lines.some((l) => l.startsWith('added 1, changed 1')));
  // No .bak clutter beside a git-tracked file.
  await assert.rejects(stat(`${out}.bak`), { code: 'ENOENT' });
});

test('CLI: bad arguments and unreadable input give non-zero exit codes', async () => {
  const lines: string[] = [];
  const deps = { cwd: dir, now: () => new Date('2026-11-21T10:00:00Z'), log: (l: string) => lines.push(l) };
  assert.equal(await runRefresh([], deps), 2);
  assert.equal(await runRefresh(['a.json', '--bogus'], deps), 2);
  assert.equal(await runRefresh(['a.json', '--out'], deps), 2);
  assert.equal(await runRefresh(['missing.json', '--out', 'p.json'], deps), 1);
  assert.ok(lines.some((l) => /refresh failed: .*missing\.json does not exist/.test(l)));
  await writeFile(join(dir, 'not-json.json'), 'nope');
  assert.equal(await runRefresh(['not-json.json', '--out', 'p.json'], deps), 1);
});
