// Tests for the non-streaming response translators in both directions (fixtures/c2a-response and
// fixtures/a2c-response) and the finish/stop reason tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { chatResponseToAnthropic } from './response-from-chat.js';
import { anthropicToChatResponse } from './response-to-chat.js';
import { finishReasonToStopReason, stopReasonToFinishReason } from './mappings.js';
import { UpstreamResponseError } from './upstream-error.js';
import type { AnthropicMessage, ChatCompletion } from './types.js';

function load<T>(sub: string): Array<[string, T]> {
  const dir = new URL(`./fixtures/${sub}/`, import.meta.url);
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as T]);
}

const c2a = load<{ description: string; requestedModel: string; chat: ChatCompletion; anthropic: AnthropicMessage; servedModel: string }>('c2a-response');
const a2c = load<{ description: string; requestedModel: string; now: number; anthropic: AnthropicMessage; chat: ChatCompletion; servedModel: string }>('a2c-response');

test('response fixtures exist', () => {
  assert.ok(c2a.length >= 5 && a2c.length >= 2);
});

for (const [file, fx] of c2a) {
  test(`chatResponseToAnthropic: ${file} (${fx.description})`, () => {
    assert.deepStrictEqual(chatResponseToAnthropic(fx.chat, { requestedModel: fx.requestedModel }), { message: fx.anthropic, servedModel: fx.servedModel });
  });
}

for (const [file, fx] of a2c) {
  test(`anthropicToChatResponse: ${file} (${fx.description})`, () => {
    assert.deepStrictEqual(anthropicToChatResponse(fx.anthropic, { requestedModel: fx.requestedModel, clock: () => fx.now }), { completion: fx.chat, servedModel: fx.servedModel });
  });
}

test('a completion without choices is an upstream error, not a crash', () => {
  const bad = { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] } as ChatCompletion;
  assert.throws(() => chatResponseToAnthropic(bad, { requestedModel: 'c' }), (err: unknown) => err instanceof UpstreamResponseError && err.status === 502);
});

test('finish_reason -> stop_reason table', () => {
  assert.equal(finishReasonToStopReason('stop', false), 'end_turn');
  assert.equal(finishReasonToStopReason('length', false), 'max_tokens');
  assert.equal(finishReasonToStopReason('tool_calls', false), 'tool_use');
  assert.equal(finishReasonToStopReason('function_call', false), 'tool_use');
  assert.equal(finishReasonToStopReason('content_filter', false), 'refusal');
  assert.equal(finishReasonToStopReason(null, false), 'end_turn');
  assert.equal(finishReasonToStopReason('stop', true), 'tool_use');
});

test('stop_reason -> finish_reason table', () => {
  assert.equal(stopReasonToFinishReason('end_turn'), 'stop');
  assert.equal(stopReasonToFinishReason('stop_sequence'), 'stop');
  assert.equal(stopReasonToFinishReason('max_tokens'), 'length');
  assert.equal(stopReasonToFinishReason('model_context_window_exceeded'), 'length');
  assert.equal(stopReasonToFinishReason('tool_use'), 'tool_calls');
  assert.equal(stopReasonToFinishReason('refusal'), 'content_filter');
  assert.equal(stopReasonToFinishReason('pause_turn'), 'stop');
});
