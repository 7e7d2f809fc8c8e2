import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fillDays, layoutBars, niceMax, ticks } from './charts.js';

test('niceMax rounds up to 1/2/2.5/5 x 10^n', () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(0.73), 1);
  assert.equal(niceMax(1.2), 2);
  assert.equal(niceMax(2.3), 2.5);
  assert.equal(niceMax(3), 5);
  assert.equal(niceMax(7.5), 10);
  assert.equal(niceMax(120), 200);
  assert.equal(niceMax(0.0012), 0.002);
  assert.equal(niceMax(50), 50);
});

test('ticks are evenly spaced from 0', () => {
  assert.deepEqual(ticks(2.5, 5), [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(ticks(0.2, 4), [0, 0.05, 0.1, 0.15, 0.2]);
});

test('bars fill the height in proportion and sit on the baseline', () => {
  const bars = layoutBars([1, 0, 2], 300, 100, 2, 0);
  assert.deepEqual(bars.map((b) => b.height), [50, 0, 100]);
  assert.deepEqual(bars.map((b) => b.y), [50, 100, 0]);
  assert.deepEqual(bars.map((b) => b.x), [0, 100, 200]);
  assert.equal(bars[0]!.width, 100);
  const gapped = layoutBars([1], 100, 10, 1, 0.5);
  assert.equal(gapped[0]!.width, 50);
  assert.equal(gapped[0]!.x, 25);
  assert.deepEqual(layoutBars([], 100, 10, 1), []);
  assert.equal(layoutBars([-5], 100, 10, 1)[0]!.height, 0);
});

test('fillDays spans every day, month ends included', () => {
  const days = fillDays('2026-02-27', '2026-03-02', new Map([['2026-02-28', 4], ['2026-03-02', 1]]));
  assert.deepEqual(days, [
    { day: '2026-02-27', value: 0 }, { day: '2026-02-28', value: 4 }, { day: '2026-03-01', value: 0 }, { day: '2026-03-02', value: 1 },
  ]);
});
