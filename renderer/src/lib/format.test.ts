import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCost, formatDuration, formatRelative, formatTokens, formatUsd, shortId, shortModel, shortProject, formatInt, localDayOf } from './format.js';

test('money: unpriced is never $0, precision follows the amount', () => {
  assert.equal(formatUsd(null), 'unpriced');
  assert.equal(formatUsd(undefined), 'unpriced');
  assert.equal(formatUsd(0), '$0.00');
  assert.equal(formatUsd(12.345), '$12.35');
  assert.equal(formatUsd(1234.5), '$1,234.50');
  assert.equal(formatUsd(123456.7), '$123,457');
  assert.equal(formatUsd(0.5), '$0.50');
  assert.equal(formatUsd(0.001146), '$0.0011');
  assert.equal(formatUsd(0.0000456), '$0.000046');
  assert.equal(formatUsd(0.0000001), '<$0.000001');
  assert.equal(formatUsd(-2.5), '-$2.50');
});

test('cost with unpriced requests', () => {
  assert.equal(formatCost(null, 3), 'unpriced');
  assert.equal(formatCost(1.2, 0), '$1.20');
  assert.equal(formatCost(1.2, 3), '$1.20 + 3 unpriced');
});

test('tokens', () => {
  assert.equal(formatTokens(0), '0');
  assert.equal(formatTokens(950), '950');
  assert.equal(formatTokens(1000), '1K');
  assert.equal(formatTokens(12_345), '12.3K');
  assert.equal(formatTokens(4_560_000), '4.56M');
  assert.equal(formatTokens(123_456_789), '123M');
  assert.equal(formatTokens(1_200_000_000), '1.2B');
  assert.equal(formatInt(1234567), '1,234,567');
});

test('durations', () => {
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(849.6), '850 ms');
  assert.equal(formatDuration(1530), '1.53 s');
  assert.equal(formatDuration(12_340), '12.3 s');
  assert.equal(formatDuration(65_000), '1m 05s');
  assert.equal(formatDuration(7_380_000), '2h 03m');
});

test('relative times', () => {
  const now = Date.UTC(2026, 10, 20, 12);
  assert.equal(formatRelative(now - 10_000, now), 'just now');
  assert.equal(formatRelative(now - 5 * 60_000, now), '5 min ago');
  assert.equal(formatRelative(now - 3 * 3_600_000, now), '3 h ago');
  assert.equal(formatRelative(now - 86_400_000, now), '1 day ago');
  assert.equal(formatRelative(now - 2 * 86_400_000, now), '2 days ago');
  assert.match(formatRelative(now - 30 * 86_400_000, now), /^Oct 2[01], 2026$/);
  assert.equal(formatRelative(now + 5000, now), 'just now', 'clock skew is not "in the future"');
});

test('ids, projects and days', () => {
  assert.equal(shortId('5f1c1a9e-0000-4000-8000-000000000001'), '5f1c1a9e…0001');
  assert.equal(shortId('short'), 'short');
  assert.equal(shortId('5f1c1a9e-0000-4000-8000-000000000001', 6, 0), '5f1c1a…');
  assert.equal(shortModel('claude-sonnet-4-5-20250929'), 'sonnet-4-5');
  assert.equal(shortModel('claude-opus-4-8'), 'opus-4-8');
  assert.equal(shortModel('my-finetune-v2'), 'my-finetune-v2');
  assert.equal(shortModel(null), '—');
  assert.equal(shortProject('/home/dev/work/app'), '…/work/app');
  assert.equal(shortProject('app'), 'app');
  assert.equal(shortProject(null), '—');
  assert.equal(localDayOf(new Date(2026, 0, 5, 23, 59).getTime()), '2026-01-05');
});
