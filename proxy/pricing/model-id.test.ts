// Tests for model-id spelling: each provider form maps to the table's spelling, and nothing looser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateIds, globToRegExp, isGlob, normalizeModelId } from './model-id.js';

test('normalizeModelId strips provider spellings down to the API id', () => {
  const cases: [string, string][] = [
    ['  Claude-Sonnet-4-5  ', 'claude-sonnet-4-5'],
    ['anthropic/claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['openrouter/anthropic/claude-sonnet-4.5', 'claude-sonnet-4-5'],
    ['claude-3.5-haiku', 'claude-3-5-haiku'],
    ['claude-opus-4-6[1m]', 'claude-opus-4-6'],
    ['claude-opus-4-6[1M]', 'claude-opus-4-6'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5-20250929'],
    ['claude-opus-4-6@default', 'claude-opus-4-6'],
    ['projects/p/locations/us-east5/publishers/anthropic/models/claude-opus-4-1@20250805', 'claude-opus-4-1-20250805'],
    ['anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3-5-haiku-20241022'],
    ['eu.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5-20250929'],
    ['us-gov.anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku-20240307'],
    ['global.anthropic.claude-opus-4-6-v1', 'claude-opus-4-6'],
    ['anthropic.claude-sonnet-4-6', 'claude-sonnet-4-6'],
    ['bedrock/us-west-2/anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1-20250805'],
    ['gpt-4o-mini', 'gpt-4o-mini'],
  ];
  for (const [raw, want] of cases) assert.equal(normalizeModelId(raw), want, raw);
});

test('candidateIds: exact, normalized, then without a snapshot date; nothing looser', () => {
  assert.deepEqual(candidateIds('anthropic/claude-opus-4-6-20260205'), [
    'anthropic/claude-opus-4-6-20260205',
    'claude-opus-4-6-20260205',
    'claude-opus-4-6',
  ]);
  assert.deepEqual(candidateIds('claude-opus-4-6'), ['claude-opus-4-6']);
  // Not a date (month 13), so not stripped; a bare version number is never trimmed.
  assert.deepEqual(candidateIds('claude-x-20251301'), ['claude-x-20251301']);
  assert.deepEqual(candidateIds('claude-opus-4-60'), ['claude-opus-4-60']);
});

test('globs: * and ? only, everything else literal, case-insensitive', () => {
  assert.equal(isGlob('claude-*'), true);
  assert.equal(isGlob('claude-opus-4-6'), false);
  const re = globToRegExp('Claude-Opus-4-?');
  assert.equal(re.test('claude-opus-4-8'), true);
  assert.equal(re.test('claude-opus-4-10'), false);
  assert.equal(globToRegExp('a.b*').test('a.bcd'), true);
  assert.equal(globToRegExp('a.b*').test('axbcd'), false);
  assert.equal(globToRegExp('ollama/*').test('ollama/llama3:70b'), true);
});
