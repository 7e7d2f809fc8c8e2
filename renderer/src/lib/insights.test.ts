import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heatShade, modelSeries, OTHERS, positionLabel } from './insights.js';

test('cache positions in words', () => {
  assert.equal(positionLabel('tools'), 'tool definitions');
  assert.equal(positionLabel('system'), 'tools + system prompt');
  assert.equal(positionLabel('messages[0]'), 'through message 1');
});

test('the 30-day curve: top models by spend, the rest as one line, every day present', () => {
  const daily = [
    { day: '2025-03-01', model: 'a', usd: 5 }, { day: '2025-03-03', model: 'a', usd: 1 },
    { day: '2025-03-02', model: 'b', usd: 3 }, { day: '2025-03-02', model: 'c', usd: 2 }, { day: '2025-03-03', model: 'd', usd: 0.5 },
    { day: '2025-02-01', model: 'z', usd: 99 },
  ];
  const s = modelSeries(daily, '2025-03-01', '2025-03-03', 2);
  assert.deepEqual(s.map((x) => [x.model, x.total]), [['a', 6], ['b', 3], [OTHERS, 2.5]]);
  assert.deepEqual(s[0]!.points.map((p) => p.value), [5, 0, 1]);
  assert.deepEqual(s[2]!.points.map((p) => p.value), [0, 2, 0.5]);
  // Exactly one model past the top: it gets its own line rather than an "other" line of one.
  assert.deepEqual(modelSeries(daily, '2025-03-01', '2025-03-03', 3).map((x) => x.model), ['a', 'b', 'c', 'd']);
});

test('heat shades: zero is blank, any spend is visible, the largest is full', () => {
  assert.equal(heatShade(0, 10), 0);
  assert.equal(heatShade(0.0001, 10), 0.08);
  assert.equal(heatShade(10, 10), 1);
});
