// Exact-cost tests for the price book against the bundled table. Every expected value is worked
// out by hand from Anthropic's published USD-per-million prices (noted beside each), never by
// calling the code under test.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createPriceBook, loadBundledPrices, picoToUsd, PriceTableError, sumPicoUsd, type PriceBook, type PriceTable, type Usage } from './index.js';

let table: PriceTable;
let book: PriceBook;
before(async () => {
  table = await loadBundledPrices();
  book = createPriceBook(table);
});

const NULL_BREAKDOWN = { input: null, output: null, cacheWrite5m: null, cacheWrite1h: null, cacheRead: null, webSearch: null };

test('plain input and output: Sonnet 4.5 at $3 / $15', () => {
  const r = book.cost('claude-sonnet-4-5-20250929', { input_tokens: 10_000, output_tokens: 2_000 });
  // 10,000 x $3/M = $0.03; 2,000 x $15/M = $0.03.
  assert.equal(r.priced, true);
  assert.equal(r.tier, 'standard');
  assert.equal(r.model, 'claude-sonnet-4-5-20250929');
  assert.deepEqual(r.breakdown, { input: 0.03, output: 0.03, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0, webSearch: 0 });
  assert.equal(r.costUsd, 0.06);
  assert.equal(r.costPicoUsd, 60_000_000_000);
});

test('one million input tokens cost exactly the per-million price', () => {
  // Sonnet 4.6 has no long-context tier: 1,000,000 x $3/M = $3 exactly.
  const r = book.cost('claude-sonnet-4-6', { input_tokens: 1_000_000, output_tokens: 0 });
  assert.equal(r.costUsd, 3);
  assert.equal(r.costPicoUsd, 3_000_000_000_000);
  // Sonnet 4.5 in five requests of 200,000 (at, not above, the threshold) is also $3 in total.
  const parts = Array.from({ length: 5 }, () => book.cost('claude-sonnet-4-5', { input_tokens: 200_000, output_tokens: 0 }));
  for (const p of parts) assert.equal(p.tier, 'standard');
  assert.equal(sumPicoUsd(parts.map((p) => p.costPicoUsd)), 3_000_000_000_000n);
});

test('5-minute cache writes use the 5m price', () => {
  const r = book.cost('claude-sonnet-4-5', {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 4_000,
    cache_creation: { ephemeral_5m_input_tokens: 4_000, ephemeral_1h_input_tokens: 0 },
  });
  // 4,000 x $3.75/M = $0.015.
  assert.equal(r.breakdown.cacheWrite5m, 0.015);
  assert.equal(r.breakdown.cacheWrite1h, 0);
  assert.equal(r.costPicoUsd, 15_000_000_000);
});

test('1-hour cache writes use the 1h price, separately from 5-minute ones', () => {
  const r = book.cost('claude-opus-4-1', {
    input_tokens: 0,
    output_tokens: 100,
    cache_creation_input_tokens: 10_000,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 10_000 },
  });
  // Opus 4.1: 10,000 x $30/M = $0.30; 100 x $75/M = $0.0075.
  assert.equal(r.breakdown.cacheWrite1h, 0.3);
  assert.equal(r.breakdown.cacheWrite5m, 0);
  assert.equal(r.breakdown.output, 0.0075);
  assert.equal(r.costPicoUsd, 307_500_000_000);

  const both = book.cost('claude-haiku-4-5', {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 3_000,
    cache_creation: { ephemeral_5m_input_tokens: 1_000, ephemeral_1h_input_tokens: 2_000 },
  });
  // Haiku 4.5: 1,000 x $1.25/M = $0.00125; 2,000 x $2/M = $0.004.
  assert.equal(both.breakdown.cacheWrite5m, 0.00125);
  assert.equal(both.breakdown.cacheWrite1h, 0.004);
  assert.equal(both.costPicoUsd, 5_250_000_000);
});

test('without cache_creation every cache write is a 5-minute write', () => {
  const r = book.cost('claude-sonnet-4-6', { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 2_000 });
  // 2,000 x $3.75/M = $0.0075, nothing at the 1h price.
  assert.equal(r.breakdown.cacheWrite5m, 0.0075);
  assert.equal(r.breakdown.cacheWrite1h, 0);
});

test('parts short of the total: the remainder is priced as 5-minute writes', () => {
  const r = book.cost('claude-sonnet-4-6', {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 3_000,
    cache_creation: { ephemeral_5m_input_tokens: 1_000, ephemeral_1h_input_tokens: 1_500 },
  });
  // 5m: 1,000 + 500 remainder = 1,500 x $3.75/M = $0.005625; 1h: 1,500 x $6/M = $0.009.
  assert.equal(r.breakdown.cacheWrite5m, 0.005625);
  assert.equal(r.breakdown.cacheWrite1h, 0.009);
  assert.equal(r.costPicoUsd, 14_625_000_000);
});

test('parts above the total: the parts are priced', () => {
  const r = book.cost('claude-sonnet-4-6', {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 1_000,
    cache_creation: { ephemeral_5m_input_tokens: 800, ephemeral_1h_input_tokens: 400 },
  });
  // 800 x $3.75/M = $0.003; 400 x $6/M = $0.0024.
  assert.equal(r.breakdown.cacheWrite5m, 0.003);
  assert.equal(r.breakdown.cacheWrite1h, 0.0024);
});

test('cache reads use the read price', () => {
  const r = book.cost('claude-haiku-4-5-20251001', { input_tokens: 50, output_tokens: 0, cache_read_input_tokens: 100_000 });
  // 100,000 x $0.10/M = $0.01; 50 x $1/M = $0.00005.
  assert.equal(r.breakdown.cacheRead, 0.01);
  assert.equal(r.breakdown.input, 0.00005);
  assert.equal(r.costPicoUsd, 10_050_000_000);
  // Opus 5.5 reads at $0.20/M (0.05x input), not 0.1x: 1,000,000 reads = $0.20.
  assert.equal(book.cost('claude-opus-5-5', { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 1_000_000 }).costUsd, 0.2);
});

test('long-context tier: at the threshold stays standard', () => {
  // 150,000 input + 50,000 read = 200,000: not above 200k.
  const r = book.cost('claude-sonnet-4-5', { input_tokens: 150_000, output_tokens: 1_000, cache_read_input_tokens: 50_000 });
  // 150,000 x $3 = $0.45; 50,000 x $0.30 = $0.015; 1,000 x $15 = $0.015.
  assert.equal(r.tier, 'standard');
  assert.equal(r.costPicoUsd, 480_000_000_000);
  assert.equal(r.costUsd, 0.48);
});

test('long-context tier: one token above moves every token to the higher prices', () => {
  const r = book.cost('claude-sonnet-4-5', { input_tokens: 150_000, output_tokens: 1_000, cache_read_input_tokens: 50_001 });
  // 150,000 x $6 = $0.90; 50,001 x $0.60 = $0.0300006; 1,000 x $22.50 = $0.0225.
  assert.equal(r.tier, 'long_context');
  assert.deepEqual(r.breakdown, { input: 0.9, output: 0.0225, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0.0300006, webSearch: 0 });
  assert.equal(r.costPicoUsd, 952_500_600_000);

  // Cache writes count toward the threshold and get the multipliers on top of $6.
  const w = book.cost('claude-sonnet-4-20250514', {
    input_tokens: 100_000,
    output_tokens: 0,
    cache_creation_input_tokens: 100_001,
    cache_creation: { ephemeral_5m_input_tokens: 100_000, ephemeral_1h_input_tokens: 1 },
  });
  // 100,000 x $6 = $0.60; 100,000 x $7.50 = $0.75; 1 x $12 = $0.000012.
  assert.equal(w.tier, 'long_context');
  assert.equal(w.costPicoUsd, 1_350_012_000_000);
});

test('Haiku 5.5 switches tier above 100,000 prompt tokens', () => {
  const below = book.cost('claude-haiku-5-5', { input_tokens: 100_000, output_tokens: 1_000 });
  // 100,000 x $0.10 = $0.01; 1,000 x $0.50 = $0.0005.
  assert.equal(below.tier, 'standard');
  assert.equal(below.costPicoUsd, 10_500_000_000);
  const above = book.cost('claude-haiku-5-5', { input_tokens: 100_001, output_tokens: 1_000 });
  // 100,001 x $0.50 = $0.0500005; 1,000 x $2.50 = $0.0025.
  assert.equal(above.tier, 'long_context');
  assert.equal(above.costPicoUsd, 52_500_500_000);
});

test('models without a tier stay standard past 200k (Opus 4.6 1M at standard rates)', () => {
  const r = book.cost('claude-opus-4-6', { input_tokens: 500_000, output_tokens: 0 });
  // 500,000 x $5 = $2.50.
  assert.equal(r.tier, 'standard');
  assert.equal(r.costUsd, 2.5);
});

test('batch halves every token price', () => {
  const usage: Usage = {
    input_tokens: 20_000,
    output_tokens: 4_000,
    cache_read_input_tokens: 10_000,
    cache_creation_input_tokens: 2_000,
    cache_creation: { ephemeral_5m_input_tokens: 1_000, ephemeral_1h_input_tokens: 1_000 },
  };
  const r = book.cost('claude-opus-4-5', usage, { batch: true });
  // Opus 4.5 halved: 20,000 x $2.50 = $0.05; 4,000 x $12.50 = $0.05; 10,000 x $0.25 = $0.0025;
  // 1,000 x $3.125 = $0.003125; 1,000 x $5 = $0.005.
  assert.equal(r.batch, true);
  assert.deepEqual(r.breakdown, { input: 0.05, output: 0.05, cacheWrite5m: 0.003125, cacheWrite1h: 0.005, cacheRead: 0.0025, webSearch: 0 });
  assert.equal(r.costPicoUsd, 110_625_000_000);
  // service_tier "batch" on the usage itself means the same.
  assert.equal(book.cost('claude-opus-4-5', { ...usage, service_tier: 'batch' }).costPicoUsd, 110_625_000_000);
  assert.equal(book.cost('claude-opus-4-5', { ...usage, service_tier: 'standard' }).costPicoUsd, 221_250_000_000);
});

test('web search requests are $10 per 1,000, not halved in batch', () => {
  const r = book.cost('claude-sonnet-4-6', { input_tokens: 1_000, output_tokens: 0, server_tool_use: { web_search_requests: 3, web_fetch_requests: 2 } });
  // 3 x $0.01 = $0.03 (web fetch has no per-request fee); 1,000 x $3 = $0.003.
  assert.equal(r.breakdown.webSearch, 0.03);
  assert.equal(r.costPicoUsd, 33_000_000_000);
  const b = book.cost('claude-sonnet-4-6', { input_tokens: 1_000, output_tokens: 0, server_tool_use: { web_search_requests: 3 } }, { batch: true });
  assert.equal(b.costPicoUsd, 31_500_000_000);
});

test('an unknown model is unpriced: null, never 0', () => {
  for (const id of ['claude-foo-9', 'claude-opus-4-60', 'claude-sonnet', 'gpt-unknown-1', '', 'opus']) {
    const r = book.cost(id, { input_tokens: 1_000, output_tokens: 1_000 });
    assert.equal(r.priced, false, id);
    assert.equal(r.costUsd, null, id);
    assert.equal(r.costPicoUsd, null, id);
    assert.equal(r.model, null, id);
    assert.equal(r.unpricedReason, 'unknown_model');
    assert.deepEqual(r.breakdown, NULL_BREAKDOWN);
    assert.equal(book.lookup(id), null, id);
  }
});

test('aliases, snapshots and provider spellings resolve to the right canonical model', () => {
  const cases: [string, string][] = [
    ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5-20250929'],
    ['CLAUDE-SONNET-4-5', 'claude-sonnet-4-5-20250929'],
    ['anthropic/claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
    ['anthropic/claude-sonnet-4.5', 'claude-sonnet-4-5-20250929'],
    ['openrouter/anthropic/claude-opus-4.1', 'claude-opus-4-1-20250805'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5-20250929'],
    ['claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet-20241022'],
    ['anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1-20250805'],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5-20251001'],
    ['global.anthropic.claude-opus-4-6-v1', 'claude-opus-4-6'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0', 'claude-sonnet-4-20250514'],
    ['claude-opus-4-6[1m]', 'claude-opus-4-6'],
    ['claude-sonnet-4-5-20250929[1m]', 'claude-sonnet-4-5-20250929'],
    ['claude-opus-4-7-20260416', 'claude-opus-4-7'],
    ['claude-opus-4-0', 'claude-opus-4-20250514'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku-20241022'],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku-20241022'],
    ['claude-3-7-sonnet-20250219', 'claude-3-7-sonnet-20250219'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4-5-20251001'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1-20250805'],
  ];
  for (const [id, canonical] of cases) assert.equal(book.lookup(id)?.id, canonical, id);
  // The alias is priced like its snapshot: 1,000 output tokens of Opus 4.1 = $0.075.
  assert.equal(book.cost('anthropic.claude-opus-4-1-20250805-v1:0', { input_tokens: 0, output_tokens: 1_000 }).costUsd, 0.075);
});

test('lookup returns the full price of the model', () => {
  const p = book.lookup('claude-sonnet-4-5');
  assert.deepEqual(p, {
    id: 'claude-sonnet-4-5-20250929',
    family: 'anthropic',
    aliases: ['claude-sonnet-4-5'],
    input: 3,
    output: 15,
    cacheWrite5m: 3.75,
    cacheWrite1h: 6,
    cacheRead: 0.3,
    longContext: { thresholdInputTokens: 200_000, input: 6, output: 22.5, cacheWrite5m: 7.5, cacheWrite1h: 12, cacheRead: 0.6 },
    webSearchPer1k: 10,
    source: 'table',
  });
});

test('overrides: exact keys change one field and win over globs', () => {
  const b = createPriceBook(table, {
    'claude-opus-4-*': { output: 20 },
    'claude-opus-4-8': { input: 4 },
  });
  const opus48 = b.lookup('claude-opus-4-8');
  assert.equal(opus48?.input, 4);
  assert.equal(opus48?.output, 20);
  assert.equal(opus48?.cacheRead, 0.5);
  assert.equal(opus48?.source, 'override');
  // The glob reached Opus 4.1 through its id; Sonnet is untouched.
  assert.equal(b.lookup('claude-opus-4-1')?.output, 20);
  assert.equal(b.lookup('claude-sonnet-4-6')?.output, 15);
  assert.equal(b.lookup('claude-sonnet-4-6')?.source, 'table');
  // 1,000 in x $4 + 1,000 out x $20 = $0.024.
  assert.equal(b.cost('claude-opus-4-8', { input_tokens: 1_000, output_tokens: 1_000 }).costUsd, 0.024);
  // The bundled book is unaffected.
  assert.equal(book.lookup('claude-opus-4-8')?.input, 5);
});

test('overrides can add an alias to a table model', () => {
  const b = createPriceBook(table, { 'claude-opus-4-8': { aliases: ['team-default-opus'] } });
  assert.equal(b.lookup('team-default-opus')?.id, 'claude-opus-4-8');
  assert.equal(book.lookup('team-default-opus'), null);
});

test('overrides: alias keys, and removing a long-context tier', () => {
  const b = createPriceBook(table, { 'claude-sonnet-4-5': { longContext: null, cacheRead: 0.25 } });
  const r = b.cost('claude-sonnet-4-5-20250929', { input_tokens: 300_000, output_tokens: 0, cache_read_input_tokens: 100_000 });
  // No tier now: 300,000 x $3 = $0.90; 100,000 x $0.25 = $0.025.
  assert.equal(r.tier, 'standard');
  assert.equal(r.costPicoUsd, 925_000_000_000);
});

test('overrides can price a model the table lacks', () => {
  const b = createPriceBook(table, {
    'my-local-llm': { input: 0.5, output: 1 },
    'ollama/*': { input: 0, output: 0 },
  });
  const p = b.lookup('my-local-llm');
  // Unstated cache prices follow Anthropic's multipliers: 1.25x, 2x, 0.1x of $0.50.
  assert.deepEqual(
    p && { id: p.id, family: p.family, cacheWrite5m: p.cacheWrite5m, cacheWrite1h: p.cacheWrite1h, cacheRead: p.cacheRead },
    { id: 'my-local-llm', family: 'custom', cacheWrite5m: 0.625, cacheWrite1h: 1, cacheRead: 0.05 },
  );
  // 2,000 x $0.50 + 1,000 x $1 = $0.002.
  assert.equal(b.cost('My-Local-LLM', { input_tokens: 2_000, output_tokens: 1_000 }).costUsd, 0.002);
  // A glob with explicit zero prices prices matching unknown models at $0, on purpose.
  const free = b.cost('ollama/llama3.3:70b', { input_tokens: 5_000, output_tokens: 5_000 });
  assert.equal(free.priced, true);
  assert.equal(free.costUsd, 0);
  // Unknown models elsewhere stay unpriced.
  assert.equal(b.cost('claude-foo-9', { input_tokens: 1, output_tokens: 1 }).priced, false);
  // Such a model has no web search price: searches make the request unpriced, not cheaper.
  const ws = b.cost('my-local-llm', { input_tokens: 2_000, output_tokens: 0, server_tool_use: { web_search_requests: 1 } });
  assert.equal(ws.priced, false);
  assert.equal(ws.costUsd, null);
  assert.equal(ws.unpricedReason, 'web_search_unpriced');
  assert.equal(ws.breakdown.input, 0.001);
  assert.equal(ws.breakdown.webSearch, null);
});

test('invalid overrides fail loudly, listing every problem', () => {
  assert.throws(
    () => createPriceBook(table, { 'claude-opus-4-8': { input: -1 }, 'claude-sonnet-4-6': { output: Number.NaN } }),
    (err: unknown) => err instanceof PriceTableError && err.problems.length === 2 &&
      err.problems.some((p) => p.startsWith('claude-opus-4-8.input')) && err.problems.some((p) => p.startsWith('claude-sonnet-4-6.output')),
  );
  assert.throws(() => createPriceBook(table, { 'brand-new-model': { input: 1 } }), /needs at least input and output/);
  assert.throws(() => createPriceBook(table, { 'claude-opus-4-8': { longContext: { input: 10 } } }), /longContext adds a tier but lacks thresholdInputTokens/);
  assert.throws(() => createPriceBook(table, { 'claude-opus-4-8': { input: 0.0000001 } }), /more than 6 decimals/);
});

test('invalid usage counts throw instead of pricing garbage', () => {
  assert.throws(() => book.cost('claude-sonnet-4-6', { input_tokens: -1, output_tokens: 0 }), RangeError);
  assert.throws(() => book.cost('claude-sonnet-4-6', { input_tokens: 1.5, output_tokens: 0 }), RangeError);
  assert.throws(() => book.cost('claude-sonnet-4-6', { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: Number.NaN }), /cache_read_input_tokens/);
  // null optional fields are absent fields.
  assert.equal(book.cost('claude-sonnet-4-6', { input_tokens: 1_000, output_tokens: 0, cache_read_input_tokens: null, cache_creation: null }).costUsd, 0.003);
});

test('10,000 small requests sum exactly, to the cent and to the micro-dollar', () => {
  // Sonnet 4.5 at standard rates, in pico-dollars per token: input 3,000,000; output 15,000,000;
  // 5m write 3,750,000; 1h write 6,000,000; read 300,000. Token counts vary per request so
  // the sum is not a single product.
  let expectedPico = 0n;
  const costs: (number | null)[] = [];
  let floatSum = 0;
  for (let i = 0; i < 10_000; i++) {
    const input = 1_000 + (i % 7);
    const output = 250 + (i % 13);
    const read = 20_000 + (i % 101);
    const w5 = i % 3 === 0 ? 1_024 : 0;
    const w1 = i % 5 === 0 ? 2_048 : 0;
    expectedPico += BigInt(input) * 3_000_000n + BigInt(output) * 15_000_000n + BigInt(read) * 300_000n +
      BigInt(w5) * 3_750_000n + BigInt(w1) * 6_000_000n;
    const r = book.cost('claude-sonnet-4-5', {
      input_tokens: input,
      output_tokens: output,
      cache_read_input_tokens: read,
      cache_creation_input_tokens: w5 + w1,
      cache_creation: { ephemeral_5m_input_tokens: w5, ephemeral_1h_input_tokens: w1 },
    });
    costs.push(r.costPicoUsd);
    floatSum += r.costUsd ?? Number.NaN;
  }
  const total = sumPicoUsd(costs);
  assert.equal(total, expectedPico);
  // Worked totals (sum of i % m over 0..9,999 is whole cycles plus the tail):
  // input 10,000,000 + 29,994 = 10,029,994 x $3/M = $30.089982;
  // output 2,500,000 + 59,985 = 2,559,985 x $15/M = $38.399775;
  // read 200,000,000 + 499,950 = 200,499,950 x $0.30/M = $60.149985;
  // 3,334 requests x 1,024 5m writes = 3,414,016 x $3.75/M = $12.80256;
  // 2,000 requests x 2,048 1h writes = 4,096,000 x $6/M = $24.576. Total $166.018302.
  assert.equal(expectedPico, 166_018_302_000_000n);
  const usd = picoToUsd(total);
  assert.equal(usd, 166.018302);
  assert.equal(Math.round(usd * 100), 16_602); // to the cent: $166.02
  assert.equal(total / 1_000_000n, 166_018_302n); // to the micro-dollar, exactly
  assert.equal(total % 1_000_000n, 0n);
  // The float running sum is close but is not what a ledger should store.
  assert.ok(Math.abs(floatSum - 166.018302) < 1e-6);
});

test('picoToUsd and sumPicoUsd handle big totals and nulls', () => {
  assert.equal(picoToUsd(12_345_678_000_000_000_000n), 12_345_678);
  assert.equal(sumPicoUsd([1, null, 2n, undefined]), 3n);
  assert.throws(() => sumPicoUsd([0.5]), RangeError);
});
