// Tests for chat request -> Anthropic request: every fixture in fixtures/c2a-request, and the
// reject policy (n > 1, logprobs, json_object ...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { InvalidRequestError } from '../../errors.js';
import { chatToAnthropicRequest, wantsStreamUsage, CHAT_REQUEST_FIELDS, type ChatToAnthropicOptions } from './request-from-chat.js';
import type { ChatRequest } from './types.js';

const dir = new URL('./fixtures/c2a-request/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('c2a-request fixtures exist', () => {
  assert.ok(files.length >= 5, `found ${files.length}`);
});

for (const file of files) {
  const fx = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { description: string; options: ChatToAnthropicOptions; chat: ChatRequest; anthropic: unknown };
  test(`chatToAnthropicRequest: ${file} (${fx.description})`, () => {
    assert.deepStrictEqual(chatToAnthropicRequest(fx.chat, fx.options), fx.anthropic);
  });
}

const base = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }], ...extra });

function rejects(req: ChatRequest, fragment: string): void {
  assert.throws(() => chatToAnthropicRequest(req), (err: unknown) => {
    assert.ok(err instanceof InvalidRequestError, `expected InvalidRequestError, got ${String(err)}`);
    assert.equal(err.code, 'GATEWAY_INVALID_REQUEST');
    assert.ok(err.message.includes(fragment), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`);
    return true;
  });
}

test('n other than 1 is a 400 naming n', () => {
  rejects(base({ n: 2 }), 'n=2 cannot be translated');
  assert.equal(chatToAnthropicRequest(base({ n: 1 })).max_tokens, 8192);
});

test('sampling and output features Claude lacks are rejected unless neutral', () => {
  rejects(base({ logprobs: true }), 'logprobs');
  rejects(base({ top_logprobs: 3 }), 'top_logprobs');
  rejects(base({ presence_penalty: 0.5 }), 'presence_penalty');
  rejects(base({ frequency_penalty: -1 }), 'frequency_penalty');
  rejects(base({ logit_bias: { '50256': -100 } }), 'logit_bias');
  rejects(base({ modalities: ['text', 'audio'] }), 'modalities');
  rejects(base({ audio: { voice: 'alloy', format: 'wav' } }), 'audio');
  rejects(base({ functions: [{ name: 'f' }] }), 'functions');
  rejects(base({ something_new: true }), 'something_new cannot be translated');
  assert.equal(chatToAnthropicRequest(base({ modalities: ['text'], logit_bias: {}, top_logprobs: 0 })).model, 'claude-haiku-4-5');
});

test('response_format json_object is rejected with the alternative named', () => {
  rejects(base({ response_format: { type: 'json_object' } }), 'send response_format json_schema');
  assert.equal(chatToAnthropicRequest(base({ response_format: { type: 'text' } })).output_config, undefined);
});

test('unknown content parts, roles and tool types are rejected with their path', () => {
  rejects(base({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } } as never] }] }), 'messages[0].content[0] of type "input_audio"');
  rejects(base({ messages: [{ role: 'function', name: 'f', content: 'x' } as never] }), 'messages[0].role "function"');
  rejects(base({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }), 'messages[0].content[0] (file)');
  rejects(base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }), 'messages[0].content[0].image_url.url');
  rejects(base({ tools: [{ type: 'custom', custom: { name: 'grammar' } } as never] }), 'tools[0] of type "custom"');
  rejects(base({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'allowed_tools' } as never }), 'tool_choice "allowed_tools"');
});

test('reasoning_effort whose budget cannot fit max_tokens is a 400; a large enough one is clamped', () => {
  rejects(base({ reasoning_effort: 'low', max_tokens: 900 }), 'reasoning_effort with max_tokens=900');
  assert.deepStrictEqual(chatToAnthropicRequest(base({ reasoning_effort: 'high', max_tokens: 20000 })).thinking, { type: 'enabled', budget_tokens: 19999 });
  assert.equal(chatToAnthropicRequest(base({ reasoning_effort: 'none', temperature: 0.7 })).thinking, undefined);
  assert.equal(chatToAnthropicRequest(base({ reasoning_effort: 'none', temperature: 0.7 })).temperature, 0.7);
});

test('parallel_tool_calls false without tool_choice becomes auto + disable_parallel_tool_use; tool_choice none is kept bare', () => {
  const tools = [{ type: 'function' as const, function: { name: 'f' } }];
  assert.deepStrictEqual(chatToAnthropicRequest(base({ tools, parallel_tool_calls: false })).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
  assert.deepStrictEqual(chatToAnthropicRequest(base({ tools, parallel_tool_calls: false, tool_choice: 'none' })).tool_choice, { type: 'none' });
  assert.deepStrictEqual(chatToAnthropicRequest(base({ tools, tool_choice: { type: 'function', function: { name: 'f' } } })).tool_choice, { type: 'tool', name: 'f' });
});

test('safety_identifier stands in for user', () => {
  assert.deepStrictEqual(chatToAnthropicRequest(base({ safety_identifier: 'h-1' })).metadata, { user_id: 'h-1' });
});

test('wantsStreamUsage reads stream_options.include_usage', () => {
  assert.equal(wantsStreamUsage({ stream_options: { include_usage: true } }), true);
  assert.equal(wantsStreamUsage({ stream_options: { include_usage: false } }), false);
  assert.equal(wantsStreamUsage({}), false);
});

test('every policy entry has a reason unless translated', () => {
  for (const [field, rule] of Object.entries(CHAT_REQUEST_FIELDS)) {
    if (rule.action !== 'translate') assert.ok(rule.why.length > 5, field);
  }
});
