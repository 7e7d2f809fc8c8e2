import { test } from 'node:test';
import assert from 'node:assert/strict';
// Dates and times; the numbers are tested with the shared formatter (proxy/format.test.ts).
import { formatDayLabel, formatRelative, formatTokens, localDayOf } from './format.js';

test('the dashboard shows the shared formatter\'s numbers', () => {
  assert.equal(formatTokens(240_000), '240K');
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

test('days', () => {
  assert.equal(localDayOf(new Date(2026, 0, 5, 23, 59).getTime()), '2026-01-05');
  assert.equal(formatDayLabel('2026-03-04'), 'Mar 4');
});
