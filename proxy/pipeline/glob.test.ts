import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch } from './glob.js';

test('globs match whole names; * and ? are the only wildcards', () => {
  assert.ok(globMatch('*', 'claude-opus-4-5'));
  assert.ok(globMatch('claude-opus-4-*', 'claude-opus-4-5-20251101'));
  assert.ok(!globMatch('claude-opus-4-*', 'claude-sonnet-4-5'));
  assert.ok(globMatch('*haiku*', 'claude-haiku-4-5'));
  assert.ok(globMatch('claude-?-x', 'claude-3-x'));
  assert.ok(!globMatch('claude-?-x', 'claude-33-x'));
  assert.ok(!globMatch('claude.opus', 'claudeXopus'), 'a dot is literal');
  assert.ok(!globMatch('claude-opus', 'claude-opus-4'), 'anchored at both ends');
  assert.ok(globMatch('a+b(c)', 'a+b(c)'), 'regex characters are literal');
});
