// CLI tables: fit the width by cutting then dropping columns (cost never), colour only when asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cut, renderTable, useColor, type Column } from './cli-table.js';

const COLS: Column[] = [
  { head: 'session', min: 14 },
  { head: 'models', min: 10, drop: 0 },
  { head: 'cache rd', align: 'right', drop: 1 },
  { head: 'cost', align: 'right', style: (c) => (c.includes('unpriced') ? 'yellow' : null) },
];
const ROWS = [
  ['5f1c1a9e-0000-4000-8000-000000000001', 'sonnet-4-5,haiku-4-5,opus-4-5'.repeat(3), '12.3M', '$12,345.67'],
  ['aaaaaaaa-0000-4000-8000-000000000002', 'my-finetune-v2', '240K', 'unpriced'],
];

test('a wide table fits 100 columns and keeps the cost', () => {
  const out = renderTable(COLS, ROWS);
  for (const line of out.trimEnd().split('\n')) assert.ok(line.length <= 100, `${line.length}: ${line}`);
  assert.match(out, /\$12,345\.67/);
  assert.match(out, /5f1c1a9e/, 'the id keeps its head');
});

test('too narrow to cut: the least useful columns go, cost stays', () => {
  const out = renderTable(COLS, ROWS, { width: 40 });
  assert.doesNotMatch(out, /models/);
  assert.match(out.split('\n')[0]!, /cost$/);
  for (const line of out.trimEnd().split('\n')) assert.ok(line.length <= 40, line);
});

test('colour only when asked; NO_COLOR and TERM=dumb turn it off', () => {
  assert.doesNotMatch(renderTable(COLS, ROWS), /\x1b\[/);
  assert.match(renderTable(COLS, ROWS, { color: true }), /\x1b\[33munpriced/);
  assert.equal(useColor({ isTTY: true, env: {} }), true);
  assert.equal(useColor({ isTTY: true, env: { NO_COLOR: '1' } }), false);
  assert.equal(useColor({ isTTY: true, env: { NO_COLOR: '' } }), true);
  assert.equal(useColor({ isTTY: true, env: { TERM: 'dumb' } }), false);
  assert.equal(useColor({ isTTY: false, env: {} }), false);
  assert.equal(cut('5f1c1a9e-0000-4000-8000-000000000001', 14), '5f1c1a9e…00001');
});
