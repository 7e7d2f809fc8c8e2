// Round trips across both translators: Anthropic request -> chat -> Anthropic keeps every
// translatable field; chat response -> Anthropic -> chat keeps content, tool calls and usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicToChatRequest } from './request-to-chat.js';
import { chatToAnthropicRequest } from './request-from-chat.js';
import { chatResponseToAnthropic } from './response-from-chat.js';
import { anthropicToChatResponse } from './response-to-chat.js';
import type { AnthropicRequest, ChatCompletion } from './types.js';

const request: AnthropicRequest = {
  model: 'claude-sonnet-4-5',
  max_tokens: 2048,
  system: 'You are a coding agent.',
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Look at this:' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, { type: 'image', source: { type: 'url', url: 'https://example.com/x.png' } }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Reading two files.' }, { type: 'tool_use', id: 'call_1', name: 'Read', input: { path: 'a.ts' } }, { type: 'tool_use', id: 'call_2', name: 'Read', input: { path: 'b.ts', limit: 10 } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'export {}' }, { type: 'tool_result', tool_use_id: 'call_2', content: 'let b = 1' }, { type: 'text', text: 'Now fix b.' }] },
    { role: 'assistant', content: 'Done.' },
    { role: 'user', content: 'Thanks' },
  ],
  stop_sequences: ['STOP'],
  temperature: 0.4,
  top_p: 0.8,
  stream: true,
  tools: [{ name: 'Read', description: 'Read a file', input_schema: { type: 'object', properties: { path: { type: 'string' }, limit: { type: 'integer' } }, required: ['path'] }, strict: true }],
  tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  metadata: { user_id: 'user_abc' },
  output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: {} } } },
};

test('Anthropic request -> chat -> Anthropic keeps every translatable field', () => {
  const chat = anthropicToChatRequest(request, { model: 'upstream-model' });
  assert.deepStrictEqual(chatToAnthropicRequest(chat, { model: request.model }), request);
});

test('thinking config survives the round trip through reasoning_effort', () => {
  const req: AnthropicRequest = { model: 'claude-opus-4-5', max_tokens: 16000, thinking: { type: 'enabled', budget_tokens: 4096 }, messages: [{ role: 'user', content: 'Hard question' }] };
  const chat = anthropicToChatRequest(req, { model: 'o4-mini', reasoningEffort: true, maxTokensField: 'max_completion_tokens' });
  assert.equal(chat.reasoning_effort, 'low');
  assert.deepStrictEqual(chatToAnthropicRequest(chat, { model: req.model }), req);
});

test('assistant thinking reaches the chat request as reasoning_content (kept across the tool turn)', () => {
  const req: AnthropicRequest = {
    model: 'claude-opus-4-5', max_tokens: 1000,
    messages: [
      { role: 'user', content: 'ls' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'Use Bash.', signature: 'sluice-reasoning-v1' }, { type: 'tool_use', id: 'call_9', name: 'Bash', input: { command: 'ls' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_9', content: 'a' }] },
    ],
  };
  const chat = anthropicToChatRequest(req, { model: 'deepseek-reasoner' });
  assert.deepStrictEqual(chat.messages[1], {
    role: 'assistant', content: null, reasoning_content: 'Use Bash.',
    tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }],
  });
});

test('chat response -> Anthropic message -> chat response keeps reasoning, content, tool calls, finish and usage', () => {
  const completion: ChatCompletion = {
    id: 'chatcmpl-rt', object: 'chat.completion', created: 1760000000, model: 'deepseek-reasoner',
    choices: [{ index: 0, logprobs: null, finish_reason: 'tool_calls', message: {
      role: 'assistant', content: 'Checking.', refusal: null, reasoning_content: 'Need data.',
      tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'fetch', arguments: '{"url":"https://example.com"}' } }],
    } }],
    usage: { prompt_tokens: 300, completion_tokens: 40, total_tokens: 340, prompt_tokens_details: { cached_tokens: 200 } },
  };
  const { message } = chatResponseToAnthropic(completion, { requestedModel: 'claude-x' });
  const { completion: back } = anthropicToChatResponse(message, { requestedModel: 'deepseek-reasoner', clock: () => 1760000000000 });
  assert.deepStrictEqual(back, completion);
});
