// Tests for the table schema and for the bundled prices.json itself (the data users are billed by).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadBundledPrices, parsePriceOverrides, parsePriceTable, PriceTableError, type PriceTable } from './index.js';

let table: PriceTable;
before(async () => {
  table = await loadBundledPrices();
});

const minimal = () => ({
  updated: '2026-11-21',
  source: 'test',
  currency: 'USD',
  unit: 'per_million_tokens',
  models: {
    'm-1': { family: 'anthropic', input: 1, output: 5, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1, aliases: ['m'] },
  },
});

test('the bundled table is dated, sourced and covers every current Anthropic id', () => {
  assert.match(table.updated, /^20\d\d-\d\d-\d\d$/);
  assert.match(table.source, /anthropic/i);
  assert.equal(table.currency, 'USD');
  assert.equal(table.unit, 'per_million_tokens');
  const known = new Set(Object.entries(table.models).flatMap(([id, e]) => [id, ...e.aliases]));
  for (const id of [
    'claude-opus-4-8', 'claude-opus-4-7', 'claude-opus-4-6', 'claude-opus-4-5-20251101', 'claude-opus-4-5',
    'claude-opus-4-1-20250805', 'claude-opus-4-1', 'claude-opus-4-20250514', 'claude-opus-4-0',
    'claude-sonnet-4-6', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5', 'claude-sonnet-4-20250514', 'claude-sonnet-4-0',
    'claude-haiku-4-5-20251001', 'claude-haiku-4-5', 'claude-3-5-haiku-20241022', 'claude-3-7-sonnet-20250219',
    'claude-3-opus-20240229', 'claude-3-haiku-20240307',
    'claude-opus-5', 'claude-opus-5-5', 'claude-sonnet-5', 'claude-sonnet-5-5', 'claude-haiku-5-5',
    'claude-fable-5', 'claude-fable-5-1', 'claude-mythos-5', 'claude-mythos-5-1',
  ]) assert.ok(known.has(id), `missing ${id}`);
});

test('bundled prices follow the published rows', () => {
  const row = (id: string) => {
    const e = table.models[id];
    assert.ok(e, id);
    return [e.input, e.cacheWrite5m, e.cacheWrite1h, e.cacheRead, e.output];
  };
  // USD per million: input, 5m write, 1h write, read, output (PROTOCOL.md "Prices" and the pricing page).
  for (const id of ['claude-opus-4-5-20251101', 'claude-opus-4-6', 'claude-opus-4-7', 'claude-opus-4-8', 'claude-opus-5']) assert.deepEqual(row(id), [5, 6.25, 10, 0.5, 25], id);
  for (const id of ['claude-opus-4-20250514', 'claude-opus-4-1-20250805', 'claude-3-opus-20240229']) assert.deepEqual(row(id), [15, 18.75, 30, 1.5, 75], id);
  for (const id of ['claude-sonnet-4-20250514', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-6', 'claude-3-7-sonnet-20250219']) assert.deepEqual(row(id), [3, 3.75, 6, 0.3, 15], id);
  assert.deepEqual(row('claude-haiku-4-5-20251001'), [1, 1.25, 2, 0.1, 5]);
  assert.deepEqual(row('claude-3-5-haiku-20241022'), [0.8, 1, 1.6, 0.08, 4]);
  assert.deepEqual(row('claude-3-haiku-20240307'), [0.25, 0.3, 0.5, 0.03, 1.25]);
  assert.deepEqual(row('claude-opus-5-5'), [4, 5, 8, 0.2, 20]);
  assert.deepEqual(row('claude-sonnet-5'), [2, 2.5, 4, 0.2, 10]);
  assert.deepEqual(row('claude-fable-5'), [10, 12.5, 20, 1, 50]);
  assert.deepEqual(row('claude-fable-5-1'), [10, 12.5, 20, 0.25, 50]);
});

test('cache prices follow 1.25x / 2x / 0.1x of input unless a note explains why not', () => {
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
  const deviating: string[] = [];
  for (const [id, e] of Object.entries(table.models)) {
    const tiers = [e, ...(e.longContext ? [e.longContext] : [])];
    const ok = tiers.every((t) => near(t.cacheWrite5m, t.input * 1.25) && near(t.cacheWrite1h, t.input * 2) && near(t.cacheRead, t.input * 0.1));
    if (!ok) {
      deviating.push(id);
      assert.ok(e.note && e.note.length > 20, `${id} departs from the multipliers without a note`);
    }
  }
  assert.deepEqual(deviating.sort(), ['claude-3-haiku-20240307', 'claude-fable-5-1', 'claude-mythos-5-1', 'claude-opus-5-5', 'claude-sonnet-5-5']);
});

test('long-context tiers exist exactly where Anthropic bills one', () => {
  const tiered = Object.entries(table.models).filter(([, e]) => e.longContext).map(([id, e]) => [id, e.longContext]);
  assert.deepEqual(Object.fromEntries(tiered), {
    'claude-sonnet-4-5-20250929': { thresholdInputTokens: 200_000, input: 6, output: 22.5, cacheWrite5m: 7.5, cacheWrite1h: 12, cacheRead: 0.6 },
    'claude-sonnet-4-20250514': { thresholdInputTokens: 200_000, input: 6, output: 22.5, cacheWrite5m: 7.5, cacheWrite1h: 12, cacheRead: 0.6 },
    'claude-haiku-5-5': { thresholdInputTokens: 100_000, input: 0.5, output: 2.5, cacheWrite5m: 0.625, cacheWrite1h: 1, cacheRead: 0.05 },
  });
});

test('every Anthropic model prices web search at $10 per 1,000', () => {
  for (const [id, e] of Object.entries(table.models)) if (e.family === 'anthropic') assert.equal(e.webSearchPer1k, 10, id);
});

test('parsePriceTable accepts a minimal table', () => {
  assert.equal(parsePriceTable(minimal()).models['m-1']?.input, 1);
});

test('parsePriceTable lists every problem', () => {
  const bad = minimal() as Record<string, unknown>;
  bad.currency = 'EUR';
  (bad.models as Record<string, Record<string, unknown>>)['m-1']!.input = -3;
  (bad.models as Record<string, Record<string, unknown>>)['m-1']!.extra = true;
  assert.throws(() => parsePriceTable(bad), (err: unknown) => {
    assert.ok(err instanceof PriceTableError);
    assert.equal(err.problems.length, 3);
    assert.ok(err.problems.some((p) => p.startsWith('currency')));
    assert.ok(err.problems.some((p) => p.startsWith('models.m-1.input')));
    assert.ok(err.problems.some((p) => p.includes('extra')));
    return true;
  });
});

test('parsePriceTable refuses an id that would resolve to two prices', () => {
  const t = minimal();
  (t.models as Record<string, unknown>)['m-2'] = { ...t.models['m-1'], aliases: ['M'] };
  assert.throws(() => parsePriceTable(t), /id "M" is already used by "m-1"/);
});

test('parsePriceTable refuses prices finer than the exact unit', () => {
  const t = minimal();
  t.models['m-1'].cacheRead = 0.1234567;
  assert.throws(() => parsePriceTable(t), /cacheRead: has more than 6 decimals/);
});

test('parsePriceOverrides accepts partial entries and a null tier, rejects unknown fields', () => {
  assert.deepEqual(parsePriceOverrides({ 'claude-*': { output: 1 }, x: { longContext: null } }), { 'claude-*': { output: 1 }, x: { longContext: null } });
  assert.deepEqual(parsePriceOverrides(undefined), {});
  assert.throws(() => parsePriceOverrides({ x: { inputPrice: 1 } }), PriceTableError);
});
