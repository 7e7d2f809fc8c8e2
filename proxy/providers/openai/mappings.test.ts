// Tests for the shared mappings: effort <-> budget symmetry, tool argument round trip, the
// synthetic signature and reasoning_details fragment merging, usage arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EFFORT_BUDGETS, RAW_ARGUMENTS_KEY, SIGNATURE_PREFIX, anthropicUsageToChat, budgetToEffort, chatUsageToAnthropic,
  decodeReasoningSignature, encodeReasoningSignature, mergeReasoningDetails, parseToolArguments, stringifyToolInput,
} from './mappings.js';
import type { ChatReasoningDetail } from './types.js';

test("Claude Code's thinking budgets land on distinct efforts", () => {
  assert.equal(budgetToEffort(4000), 'low');
  assert.equal(budgetToEffort(10000), 'medium');
  assert.equal(budgetToEffort(31999), 'high');
});

test('effort -> budget -> effort is the identity for low/medium/high', () => {
  for (const e of ['low', 'medium', 'high'] as const) assert.equal(budgetToEffort(EFFORT_BUDGETS[e]), e);
});

test('tool arguments: objects round-trip, invalid JSON and non-objects are kept raw and restored verbatim', () => {
  assert.deepStrictEqual(parseToolArguments('{"a":1}'), { a: 1 });
  assert.deepStrictEqual(parseToolArguments(''), {});
  assert.deepStrictEqual(parseToolArguments('[1,2]'), { [RAW_ARGUMENTS_KEY]: '[1,2]' });
  assert.deepStrictEqual(parseToolArguments('{"a":'), { [RAW_ARGUMENTS_KEY]: '{"a":' });
  assert.equal(stringifyToolInput(parseToolArguments('{"a":')), '{"a":');
  assert.equal(stringifyToolInput({ a: 1 }), '{"a":1}');
  // A real input that happens to contain the key next to others is not unwrapped.
  assert.equal(stringifyToolInput({ [RAW_ARGUMENTS_KEY]: 'x', b: 1 }), '{"__raw_arguments":"x","b":1}');
});

test('signature: bare prefix without details, details survive encode/decode, foreign signatures carry none', () => {
  assert.equal(encodeReasoningSignature([]), SIGNATURE_PREFIX);
  const details: ChatReasoningDetail[] = [{ type: 'reasoning.encrypted', data: 'gAAA', index: 0 }];
  const sig = encodeReasoningSignature(details);
  assert.ok(sig.startsWith(`${SIGNATURE_PREFIX}.`));
  assert.deepStrictEqual(decodeReasoningSignature(sig), details);
  assert.deepStrictEqual(decodeReasoningSignature('EqQBCgIYAhIM'), []);
  assert.deepStrictEqual(decodeReasoningSignature(`${SIGNATURE_PREFIX}.!!!notbase64json`), []);
});

test('streamed reasoning_details fragments merge per entry', () => {
  const into: ChatReasoningDetail[] = [];
  mergeReasoningDetails(into, [{ type: 'reasoning.text', text: 'Hel', index: 0 }]);
  mergeReasoningDetails(into, [{ type: 'reasoning.text', text: 'lo', index: 0, signature: null }]);
  mergeReasoningDetails(into, [{ type: 'reasoning.text', text: '', index: 0, signature: 'sig' }, { type: 'reasoning.encrypted', data: 'e1', index: 1 }]);
  assert.deepStrictEqual(into, [
    { type: 'reasoning.text', text: 'Hello', index: 0, signature: 'sig' },
    { type: 'reasoning.encrypted', data: 'e1', index: 1 },
  ]);
});

test('usage: Anthropic -> chat -> Anthropic keeps input, cache read/write and output', () => {
  const a = { input_tokens: 7, output_tokens: 9, cache_creation_input_tokens: 11, cache_read_input_tokens: 13 };
  const chat = anthropicUsageToChat(a);
  assert.deepStrictEqual(chat, { prompt_tokens: 31, completion_tokens: 9, total_tokens: 40, prompt_tokens_details: { cached_tokens: 13, cache_write_tokens: 11 } });
  assert.deepStrictEqual(chatUsageToAnthropic(chat), a);
});
