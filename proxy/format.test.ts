// The shared formatter, table-driven: every number the CLI and the dashboard print goes through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approx, estimateBadge, estimatedShare, modelsLabel, formatCost, formatDuration, formatInt, formatPercent, formatTokens, formatUsd, projectName, shortId, shortModel, shortProject } from './format.js';

test('tokens: exact below 10,000, three significant digits above, zeros never dropped from whole numbers', () => {
  const table: [number, string][] = [
    [0, '0'],
    [1, '1'],
    [999, '999'],
    [1_000, '1,000'],
    [1_500, '1,500'],
    [9_999, '9,999'],
    [10_000, '10K'],
    [12_345, '12.3K'],
    [100_000, '100K'],
    [240_000, '240K'],
    [999_499, '999K'],
    [999_950, '1M'],
    [1_000_000, '1M'],
    [4_560_000, '4.56M'],
    [12_345_678, '12.3M'],
    [123_456_789, '123M'],
    [1_200_000_000, '1.2B'],
    [-240_000, '-240K'],
  ];
  for (const [n, want] of table) assert.equal(formatTokens(n), want, `formatTokens(${n})`);
});

test('dollars: cents from one cent up, two significant digits below, never a silent $0', () => {
  const table: [number | null | undefined, string][] = [
    [null, 'unpriced'],
    [undefined, 'unpriced'],
    [Number.NaN, 'unpriced'],
    [0, '$0.00'],
    [0.0000001, '<$0.000001'],
    [0.000001, '$0.000001'],
    [0.0000456, '$0.000046'],
    [0.00001, '$0.000010'],
    [0.0001, '$0.00010'],
    [0.001146, '$0.0011'],
    [0.009, '$0.0090'],
    [0.01, '$0.01'],
    [0.5, '$0.50'],
    [1, '$1.00'],
    [12.345, '$12.35'],
    [1_234.5, '$1,234.50'],
    [12_345.67, '$12,345.67'],
    [123_456.7, '$123,456.70'],
    [-2.5, '-$2.50'],
  ];
  for (const [v, want] of table) assert.equal(formatUsd(v), want, `formatUsd(${v})`);
  assert.equal(formatCost(null, 3), 'unpriced');
  assert.equal(formatCost(1.2, 0), '$1.20');
  assert.equal(formatCost(1.2, 1234), '$1.20 + 1,234 unpriced');
});

test('durations and percentages', () => {
  const durations: [number | null, string][] = [
    [null, '—'], [0, '0 ms'], [849.6, '850 ms'], [1_530, '1.53 s'], [12_340, '12.3 s'], [65_000, '1m 05s'], [7_380_000, '2h 03m'],
  ];
  for (const [ms, want] of durations) assert.equal(formatDuration(ms), want, `formatDuration(${ms})`);
  const pct: [number | null, string][] = [
    [null, '—'], [0, '0%'], [0.0004, '<0.1%'], [0.001, '0.1%'], [0.125, '12.5%'], [0.5, '50%'], [1, '100%'], [1.234, '123.4%'],
  ];
  for (const [f, want] of pct) assert.equal(formatPercent(f), want, `formatPercent(${f})`);
  assert.equal(formatInt(12_345_678), '12,345,678');
});

test('ids, models and projects', () => {
  assert.equal(shortId('5f1c1a9e-0000-4000-8000-000000000001'), '5f1c1a9e…0001');
  assert.equal(shortId('short'), 'short');
  assert.equal(shortId('5f1c1a9e-0000-4000-8000-000000000001', 6, 0), '5f1c1a…');
  assert.equal(shortModel('claude-sonnet-4-5-20250929'), 'sonnet-4-5');
  assert.equal(shortModel('my-finetune-v2'), 'my-finetune-v2');
  assert.equal(shortModel(null), '—');
  assert.equal(shortProject('/home/dev/work/app'), '…/work/app');
  assert.equal(shortProject('app'), 'app');
  assert.equal(projectName('/home/dev/work/app/'), 'app');
  assert.equal(projectName('C:\\src\\api'), 'api');
  assert.equal(projectName(null), '—');
});

test('estimates: marked with ≈, a badge that says why, and the share of a total', () => {
  assert.equal(approx('$0.12', true), '≈$0.12');
  assert.equal(approx('$0.12', 0), '$0.12');
  assert.equal(approx('1,200', 3), '≈1,200');
  assert.equal(estimateBadge('client_cancelled'), 'cancelled');
  assert.equal(estimateBadge('upstream_cut'), 'cut');
  assert.equal(estimateBadge(null), null);
  assert.equal(estimatedShare(0, 40), '');
  assert.equal(estimatedShare(2, 40), '≈ 2 of 40 billed responses estimated (5%)');
  assert.equal(estimatedShare(1, 3), '≈ 1 of 3 billed responses estimated (33.3%)');
});

test('a session\'s models: each served model once, the model asked for beside it where routing changed it', () => {
  assert.equal(modelsLabel(['claude-sonnet-4-5-20250929'], { 'claude-sonnet-4-5-20250929': ['claude-sonnet-4-5'] }), 'sonnet-4-5', 'a dated id is the same model');
  assert.equal(modelsLabel(['claude-haiku-4-5', 'claude-sonnet-4-5'], { 'claude-haiku-4-5': ['claude-opus-4-6', 'claude-haiku-4-5-20251001'] }), 'haiku-4-5 (asked opus-4-6), sonnet-4-5');
  assert.equal(modelsLabel(['claude-haiku-4-5'], { 'claude-haiku-4-5': ['claude-opus-4-6'] }, false), 'claude-haiku-4-5 (asked claude-opus-4-6)');
  assert.equal(modelsLabel([], undefined), '');
});
