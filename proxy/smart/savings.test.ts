import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPriceBook, type PriceBook } from '../pricing/cost.js';
import { loadBundledPrices } from '../pricing/index.js';
import { routeSavings, savingsByRoute, usageOfRow, type SavingsRow } from './savings.js';

// Prices (USD per million tokens) from the bundled table, which these hand computations use:
//   claude-haiku-4-5  in 1, out 5,  5m write 1.25, 1h write 2,  read 0.1
//   claude-sonnet-4-6 in 3, out 15, 5m write 3.75, 1h write 6,  read 0.3
//   claude-opus-4-6   in 5, out 25, 5m write 6.25, 1h write 10, read 0.5
// One token at P USD per million is P x 10^6 pico-dollars.
const TOP = 'claude-opus-4-6';

function row(p: Partial<SavingsRow> & Pick<SavingsRow, 'servedModel' | 'costPico'>): SavingsRow {
  return { tier: null, route: 'smart-main', inputTokens: 0, outputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, cacheReadTokens: 0, webSearchRequests: 0, billed: true, ...p };
}

const ROWS: SavingsRow[] = [
  // A: 1000 x 1e6 + 200 x 5e6 = 2e9; on Opus 1000 x 5e6 + 200 x 25e6 = 1e10.
  row({ tier: 'simple', servedModel: 'claude-haiku-4-5', inputTokens: 1000, outputTokens: 200, costPico: 2_000_000_000 }),
  // B: 500 x 1e6 + 100 x 5e6 + 10000 x 1e5 + 2000 x 1.25e6 = 4.5e9;
  //    on Opus 500 x 5e6 + 100 x 25e6 + 10000 x 5e5 + 2000 x 6.25e6 = 2.25e10.
  row({ tier: 'simple', servedModel: 'claude-haiku-4-5', inputTokens: 500, outputTokens: 100, cacheReadTokens: 10_000, cacheWrite5mTokens: 2000, costPico: 4_500_000_000 }),
  // C: 2000 x 3e6 + 1000 x 15e6 + 1000 x 6e6 = 2.7e10; on Opus 1e10 + 2.5e10 + 1e10 = 4.5e10.
  row({ tier: 'moderate', servedModel: 'claude-sonnet-4-6', inputTokens: 2000, outputTokens: 1000, cacheWrite1hTokens: 1000, costPico: 27_000_000_000 }),
  // D: served by a model nobody priced: counted, flagged, kept out of the saving.
  row({ tier: 'moderate', servedModel: 'mystery-model', inputTokens: 100, outputTokens: 100, costPico: null }),
  // E: already on the top model: 1000 x 5e6 + 1000 x 25e6 = 3e10 both ways.
  row({ tier: 'complex', servedModel: TOP, inputTokens: 1000, outputTokens: 1000, costPico: 30_000_000_000 }),
  // Left out: an unbilled attempt and a request that was not smart-routed.
  row({ tier: 'complex', servedModel: TOP, inputTokens: 9999, outputTokens: 9999, costPico: 999, billed: false }),
  row({ tier: null, servedModel: 'claude-haiku-4-5', inputTokens: 9999, outputTokens: 9999, costPico: 999 }),
];

let bookPromise: Promise<PriceBook> | null = null;
const book = () => (bookPromise ??= loadBundledPrices().then((t) => createPriceBook(t)));

test('the hand-computed actual costs are what the price book charges', async () => {
  const b = await book();
  for (const r of ROWS.slice(0, 5)) {
    if (r.costPico === null) continue;
    assert.equal(b.cost(r.servedModel!, usageOfRow(r)).costPicoUsd, r.costPico, r.servedModel!);
  }
});

test('per-tier requests, share, cost, counterfactual and saving, exact', async () => {
  const rep = routeSavings(ROWS, await book(), TOP, 'smart-main');
  assert.equal(rep.route, 'smart-main');
  assert.equal(rep.topModel, TOP);
  assert.deepEqual(rep.tiers.map((t) => [t.tier, t.requests, t.share]), [['simple', 2, 0.4], ['moderate', 2, 0.4], ['complex', 1, 0.2]]);

  const [simple, moderate, complex] = rep.tiers;
  assert.equal(simple!.costPico, 6_500_000_000n);
  assert.equal(simple!.counterfactualPico, 32_500_000_000n);
  assert.equal(simple!.savingPico, 26_000_000_000n);
  assert.equal(simple!.savingUsd, 0.026);
  assert.deepEqual(simple!.models, ['claude-haiku-4-5']);

  assert.equal(moderate!.unpriced, 1);
  assert.equal(moderate!.comparable, 1);
  assert.equal(moderate!.costPico, 27_000_000_000n);
  assert.equal(moderate!.comparableCostPico, 27_000_000_000n);
  assert.equal(moderate!.counterfactualPico, 45_000_000_000n);
  assert.equal(moderate!.savingPico, 18_000_000_000n);
  assert.deepEqual(moderate!.models, ['claude-sonnet-4-6', 'mystery-model']);

  assert.equal(complex!.savingPico, 0n);
  assert.equal(complex!.costPico, 30_000_000_000n);

  const t = rep.total;
  assert.equal(t.requests, 5);
  assert.equal(t.unpriced, 1);
  assert.equal(t.counterfactualUnpriced, 0);
  assert.equal(t.comparable, 4);
  assert.equal(t.costPico, 63_500_000_000n);
  assert.equal(t.costUsd, 0.0635);
  assert.equal(t.counterfactualPico, 107_500_000_000n);
  assert.equal(t.counterfactualUsd, 0.1075);
  assert.equal(t.savingPico, 44_000_000_000n);
  assert.equal(t.savingUsd, 0.044);
});

test('a top model without a price leaves every row incomparable, never a $0 saving claim', async () => {
  const rep = routeSavings(ROWS, await book(), 'no-such-model');
  assert.equal(rep.total.counterfactualUnpriced, 5);
  assert.equal(rep.total.comparable, 0);
  assert.equal(rep.total.counterfactualPico, 0n);
  assert.equal(rep.total.savingPico, 0n);
  // The actual cost is still reported.
  assert.equal(rep.total.costPico, 63_500_000_000n);
});

test('routing that cost more shows a negative saving; sums stay exact where floats drift', async () => {
  const b = await book();
  // Haiku as the "top" model: the Opus row would have been cheaper there.
  const rep = routeSavings([ROWS[4]!], b, 'claude-haiku-4-5');
  // On Haiku: 1000 x 1e6 + 1000 x 5e6 = 6e9, against 3e10 paid.
  assert.equal(rep.total.savingPico, -24_000_000_000n);
  assert.equal(rep.total.savingUsd, -0.024);
  // 0.1 + 0.2 !== 0.3 in floats; in pico it is.
  const tenths = [100_000_000_000, 200_000_000_000].map((c) => row({ tier: 'simple', servedModel: 'claude-haiku-4-5', costPico: c }));
  assert.equal(routeSavings(tenths, b, TOP).total.costUsd, 0.3);
});

test('cascade step names sort after the three tiers, alphabetically', async () => {
  const rows = ['step-2', 'complex', 'step-1', 'simple'].map((tier) => row({ tier, servedModel: TOP, costPico: 0 }));
  assert.deepEqual(routeSavings(rows, await book(), TOP).tiers.map((t) => t.tier), ['simple', 'complex', 'step-1', 'step-2']);
});

test('savingsByRoute groups by rule and skips routes that are not smart rules', async () => {
  const rows: SavingsRow[] = [
    row({ route: 'a', tier: 'simple', servedModel: 'claude-haiku-4-5', inputTokens: 1_000_000, costPico: 1_000_000_000_000 }),
    row({ route: 'plain', tier: 'simple', servedModel: 'claude-haiku-4-5', costPico: 5 }),
    row({ route: 'b', tier: 'moderate', servedModel: 'claude-sonnet-4-6', inputTokens: 1_000_000, costPico: 3_000_000_000_000 }),
    row({ route: 'a', tier: 'complex', servedModel: 'claude-sonnet-4-6', inputTokens: 1_000_000, costPico: 3_000_000_000_000 }),
  ];
  const tops: Record<string, string> = { a: 'claude-sonnet-4-6', b: 'claude-opus-4-6' };
  const reps = savingsByRoute(rows, await book(), (r) => (r !== null ? tops[r] ?? null : null));
  assert.deepEqual(reps.map((r) => [r.route, r.topModel, r.total.requests]), [['a', 'claude-sonnet-4-6', 2], ['b', 'claude-opus-4-6', 1]]);
  // a: $1 on Haiku would have been $3 on Sonnet; the Sonnet row saves nothing.
  assert.equal(reps[0]!.total.savingUsd, 2);
  // b: $3 on Sonnet would have been $5 on Opus.
  assert.equal(reps[1]!.total.savingPico, 2_000_000_000_000n);
});
