import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nsToUs, percentile, summarize } from './stats.js';

test('percentile interpolates between closest ranks', () => {
  const s = [10, 20, 30, 40, 50];
  assert.equal(percentile(s, 0), 10);
  assert.equal(percentile(s, 50), 30);
  assert.equal(percentile(s, 100), 50);
  assert.equal(percentile(s, 25), 20);
  assert.equal(percentile(s, 90), 46);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('summarize sorts a copy and reports p50/p99/max/mean', () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  const s = summarize(samples);
  assert.equal(s.n, 100);
  assert.equal(s.p50, 50.5);
  assert.equal(s.p99, 99.01);
  assert.equal(s.max, 100);
  assert.equal(s.mean, 50.5);
  assert.equal(samples[0], 100, 'input left unsorted');
});

test('nsToUs keeps sub-microsecond digits', () => {
  assert.equal(nsToUs(1500n), 1.5);
  assert.equal(nsToUs(-250n), -0.25);
});
