// Budget bars, spend sources and the USD/count fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetBar, budgetRows, describeThresholds, parseCount, parseUsd, sessionBudgetRows, spendSources, usdField } from './budgets.js';
import type { BudgetSettings, TokenPolicy } from './api.js';

const BUDGETS: BudgetSettings = { dailyUsd: 5, monthlyUsd: null, sessionUsd: null, alertAt: [0.5, 0.8, 1] };
const POLICY: TokenPolicy = { models: [], dailyUsd: null, monthlyUsd: null, requestsPerMinute: null, tokensPerMinute: null, burstRequests: null, burstTokens: null, expires: null, injectCache: false };

test('USD fields: empty clears, amounts are read, mistakes are named', () => {
  assert.deepEqual(parseUsd(''), { ok: true, value: null });
  assert.deepEqual(parseUsd('  '), { ok: true, value: null });
  assert.deepEqual(parseUsd('5'), { ok: true, value: 5 });
  assert.deepEqual(parseUsd('$0.50'), { ok: true, value: 0.5 });
  assert.deepEqual(parseUsd('$ 1,250.75'), { ok: true, value: 1250.75 });
  assert.deepEqual(parseUsd('.002'), { ok: true, value: 0.002 });
  assert.deepEqual(parseUsd('1000000'), { ok: true, value: 1_000_000 });
  for (const bad of ['-1', 'abc', '1.2.3', '1,00', '5 USD', '1e3', '$']) {
    const r = parseUsd(bad);
    assert.equal(r.ok, false, bad);
    assert.match((r as { error: string }).error, /US dollars/, bad);
  }
  assert.deepEqual(parseUsd('0'), { ok: false, error: 'Enter an amount above $0, or leave it empty for no limit.' });
  assert.deepEqual(parseUsd('0.00'), { ok: false, error: 'Enter an amount above $0, or leave it empty for no limit.' });
  assert.deepEqual(parseUsd('1000000.01'), { ok: false, error: 'At most $1,000,000.00.' });
  assert.equal(usdField(null), '');
  assert.equal(usdField(0.002), '0.002', 'small budgets are not rounded away');
});

test('count fields: whole numbers in range', () => {
  assert.deepEqual(parseCount('', 10), { ok: true, value: null });
  assert.deepEqual(parseCount('1,000', 5000), { ok: true, value: 1000 });
  assert.equal(parseCount('1.5', 10).ok, false);
  assert.equal(parseCount('0', 10).ok, false);
  assert.deepEqual(parseCount('11', 10), { ok: false, error: 'At most 10.' });
});

test('bars: fraction, floored percent, level from the alert thresholds', () => {
  assert.deepEqual(budgetBar(1, 4), { fraction: 0.25, percent: 25, level: 'ok', ticks: [0.5, 0.8], text: '$1.00 of $4.00 · 25%' });
  assert.equal(budgetBar(3.2, 4).level, 'warn', '80% reached');
  assert.equal(budgetBar(3.19, 4).level, 'ok');
  assert.equal(budgetBar(3.99, 4).percent, 99, 'not 100% until the limit is reached');
  assert.equal(budgetBar(3.99, 4).level, 'warn');
  const over = budgetBar(0.0023, 0.002);
  assert.equal(over.level, 'over');
  assert.equal(over.fraction, 1, 'the fill stops at the end');
  assert.equal(over.percent, 115);
  assert.equal(over.text, '$0.0023 of $0.0020 · 115%');
  assert.equal(budgetBar(0.3, 0.1 + 0.2).level, 'over', 'exactly at the limit despite floating point');
  assert.equal(budgetBar(0.3, 0.1 + 0.2).percent, 100);
  assert.equal(budgetBar(6, 10, [0.5, 0.6, 1]).level, 'warn', 'the highest threshold under 100% warns');
  assert.deepEqual(budgetBar(6, 10, [1]).ticks, []);
  assert.equal(budgetBar(8, 10, [1]).level, 'warn', 'without thresholds under 100%, 80% warns');
});

test('bars without a limit or without a figure do not invent one', () => {
  assert.deepEqual(budgetBar(2.5, null), { fraction: 0, percent: null, level: 'none', ticks: [], text: '$2.50 spent · no limit' });
  assert.deepEqual(budgetBar(null, null).text, 'no limit');
  const u = budgetBar(null, 5);
  assert.equal(u.level, 'unknown');
  assert.equal(u.percent, null);
  assert.equal(u.text, 'spend unknown · limit $5.00');
});

test('rows: the engine figure for the current period, else the ledger', () => {
  const engine = [
    { id: 'daily', period: '2026-03-04', settledUsd: 4.5, reservedUsd: 0.2, inFlight: 1 },
    { id: 'monthly', period: '2026-02', settledUsd: 99, reservedUsd: 0, inFlight: 0 },
  ];
  const rows = budgetRows(BUDGETS, {}, { day: '2026-03-04', ledger: { today: 4.4, month: 40 }, engine });
  assert.deepEqual(rows.map((r) => [r.id, r.period, r.limitUsd, r.spentUsd, r.reservedUsd, r.source]), [
    ['daily', '2026-03-04', 5, 4.5, 0.2, 'engine'],
    ['monthly', '2026-03', null, 40, 0, 'ledger'],
  ], 'last month\'s engine entry is not this month\'s spend');
  const noLedger = budgetRows(BUDGETS, {}, { day: '2026-03-04', ledger: null, engine: [] });
  assert.deepEqual(noLedger.map((r) => [r.spentUsd, r.source]), [[null, 'none'], [null, 'none']]);
});

test('rows: each token budget that is set, from the report by tool', () => {
  const tokens = { zeta: { ...POLICY, monthlyUsd: 50 }, alpha: { ...POLICY, dailyUsd: 2 }, open: POLICY };
  const src = { day: '2026-03-04', ledger: { today: 1, month: 9 }, engine: [], tools: { today: { alpha: 0.75 }, month: { alpha: 3 } } };
  const rows = budgetRows(BUDGETS, tokens, src).filter((r) => r.scope === 'token');
  assert.deepEqual(rows.map((r) => [r.id, r.label, r.limitUsd, r.spentUsd]), [
    ['token:alpha:daily', 'alpha · daily', 2, 0.75],
    ['token:zeta:monthly', 'zeta · monthly', 50, 0],
  ], 'sorted by name; no ledger row means nothing spent');
  const unloaded = budgetRows(BUDGETS, tokens, { ...src, tools: null }).filter((r) => r.scope === 'token');
  assert.deepEqual(unloaded.map((r) => r.spentUsd), [null, null]);
});

test('session rows: only with a per-session limit, engine first', () => {
  assert.deepEqual(sessionBudgetRows(null, [{ sessionId: 's1', costUsd: 1 }], []), []);
  const rows = sessionBudgetRows(2, [{ sessionId: 's1', costUsd: 1 }, { sessionId: 's2', costUsd: null }], [{ id: 'session:s2', period: 'lifetime', settledUsd: 1.9, reservedUsd: 0.1, inFlight: 1 }]);
  assert.deepEqual(rows.map((r) => [r.id, r.spentUsd, r.source]), [['session:s1', 1, 'ledger'], ['session:s2', 1.9, 'engine']]);
});

test('sources from the admin status; thresholds in words', () => {
  const day = { costUsd: 1.5 } as never;
  const s = spendSources({ today: day, month: { costUsd: 7 } as never, day: '2026-03-04', monthStart: '2026-03-01' }, undefined, 0);
  assert.deepEqual(s, { day: '2026-03-04', ledger: { today: 1.5, month: 7 }, engine: [], tools: null });
  const noLedger = spendSources(null, [], new Date(2026, 2, 4, 12).getTime());
  assert.equal(noLedger.day, '2026-03-04', 'the local day when there is no ledger');
  assert.equal(noLedger.ledger, null);
  assert.equal(describeThresholds([1, 0.5, 0.8]), 'Alerts at 50%, 80% and 100%.');
  assert.equal(describeThresholds([1]), 'Alerts at 100%.');
});
