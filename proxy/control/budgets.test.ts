import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBudgetEngine, type BudgetLimit, type ThresholdCrossing } from './budgets.js';
import { BudgetExceededError } from './errors.js';

const USD = 1e12;
const limit = (o: Partial<BudgetLimit> = {}): BudgetLimit => ({
  id: 'daily', label: 'the daily budget (all tools)', period: '2026-03-10', limitPico: 10 * USD,
  howToRaise: '`sluice budget set daily <usd>`', load: () => 0, ...o,
});
const T = [0.5, 0.8, 1];

test('reservations count against the limit until settled; settle is idempotent', () => {
  const e = createBudgetEngine({ onThreshold: () => {} });
  const a = e.reserve([limit()], 4 * USD, T);
  const b = e.reserve([limit()], 4 * USD, T);
  assert.throws(() => e.reserve([limit()], 4 * USD, T), (err: unknown) => {
    assert.ok(err instanceof BudgetExceededError);
    assert.equal(err.status, 429);
    assert.equal(err.type, 'billing_error');
    assert.equal(err.headers['x-should-retry'], 'false');
    assert.equal(err.budget, 'daily');
    assert.match(err.message, /\$8\.00 is reserved by 2 request\(s\) in flight/);
    assert.match(err.message, /sluice budget set daily <usd>/);
    return true;
  });
  e.settle(a, 1 * USD, T);
  e.settle(a, 1 * USD, T);
  assert.deepEqual(e.status()[0], { id: 'daily', period: '2026-03-10', settledPico: 1 * USD, reservedPico: 4 * USD, inFlight: 1 });
  e.reserve([limit()], 4 * USD, T);
  e.settle(b, 0, T);
  assert.equal(e.status()[0]!.reservedPico, 4 * USD);
});

test('thresholds fire once per budget and period, including spend loaded at the period start', () => {
  const fired: ThresholdCrossing[] = [];
  const e = createBudgetEngine({ onThreshold: (c) => fired.push(c) });
  let r = e.reserve([limit({ load: () => 6 * USD })], 1 * USD, T);
  assert.deepEqual(fired.map((f) => f.threshold), [0.5]);
  e.settle(r, 1 * USD, T); // 7: nothing new
  r = e.reserve([limit()], 1 * USD, T);
  e.settle(r, 2 * USD, T); // 9 (the estimate was low): 80%
  r = e.reserve([limit()], 1 * USD, T);
  e.settle(r, 1.5 * USD, T); // 10.5: 100%, past the limit by the estimate's error
  r = e.reserve([limit({ limitPico: 20 * USD })], 1 * USD, T);
  e.settle(r, 1 * USD, T);
  assert.deepEqual(fired.map((f) => `${f.limit.period}:${f.threshold}`), ['2026-03-10:0.5', '2026-03-10:0.8', '2026-03-10:1']);
  // Next day: a fresh entry, loaded again; thresholds fire again for the new period.
  e.reserve([limit({ period: '2026-03-11', load: () => 5 * USD })], 1 * USD, T);
  assert.deepEqual(fired.slice(3).map((f) => `${f.limit.period}:${f.threshold}`), ['2026-03-11:0.5']);
});

test('at 100% a request is refused with the spent amount; every limit must fit', () => {
  const e = createBudgetEngine({ onThreshold: () => {} });
  const month = limit({ id: 'monthly', label: 'the monthly budget (all tools)', period: '2026-03', limitPico: 100 * USD });
  assert.throws(() => e.reserve([month, limit({ load: () => 10 * USD })], 1, T), /the daily budget \(all tools\) \(\$10\.00, period 2026-03-10\) would be exceeded: \$10\.00 of \$10\.00 is spent/);
  // Nothing was reserved under the monthly budget by the refused request.
  assert.equal(e.status().find((s) => s.id === 'monthly')!.reservedPico, 0);
});
