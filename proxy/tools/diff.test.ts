// Tests of the unified line diff used by previews.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unifiedDiff } from './diff.js';

const L = { from: 'a/f', to: 'b/f' };

test('equal texts give an empty diff', () => {
  assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', L), '');
});

test('a replaced line in the middle, with three lines of context', () => {
  const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
  const b = a.replace('5\n', 'five\n');
  assert.equal(unifiedDiff(a, b, L), '--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n');
});

test('far-apart changes make two hunks; a missing final newline is marked', () => {
  const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
  const b = a.replace('l1\n', 'L1\n').replace('l19', 'l19\nnew');
  const d = unifiedDiff(a, b, L);
  assert.equal((d.match(/^@@/gm) ?? []).length, 2);
  assert.match(d, /^-l19\n\\ No newline at end of file\n\+l19\n\+new\n\\ No newline at end of file\n$/m);
  assert.equal(unifiedDiff('', 'x\n', { from: '/dev/null', to: 'b/f' }), '--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+x\n');
});
