// Tests for Anthropic request -> chat request: every fixture in fixtures/a2c-request, and the
// reject / drop policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { InvalidRequestError } from '../../errors.js';
import { anthropicToChatRequest, ANTHROPIC_REQUEST_FIELDS, type AnthropicToChatOptions } from './request-to-chat.js';
import type { AnthropicRequest } from './types.js';

const dir = new URL('./fixtures/a2c-request/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('a2c-request fixtures exist', () => {
  assert.ok(files.length >= 6, `found ${files.length}`);
});

for (const file of files) {
  const fx = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { description: string; options: AnthropicToChatOptions; anthropic: AnthropicRequest; chat: unknown };
  test(`anthropicToChatRequest: ${file} (${fx.description})`, () => {
    assert.deepStrictEqual(anthropicToChatRequest(fx.anthropic, fx.options), fx.chat);
  });
}

const base = (extra: Partial<AnthropicRequest> = {}): AnthropicRequest => ({
  model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...extra,
});

function rejects(req: AnthropicRequest, fragment: string, opts: AnthropicToChatOptions = { model: 'm' }): void {
  assert.throws(() => anthropicToChatRequest(req, opts), (err: unknown) => {
    assert.ok(err instanceof InvalidRequestError, `expected InvalidRequestError, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.ok(err.message.includes(fragment), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`);
    return true;
  });
}

test('fields without a chat equivalent are rejected by name', () => {
  rejects(base({ top_k: 5 }), 'top_k cannot be translated');
  rejects(base({ container: 'cntr_1' }), 'container cannot be translated');
  rejects(base({ mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'x' }] }), 'mcp_servers');
  rejects(base({ inference_geo: 'us' }), 'inference_geo');
  rejects(base({ brand_new_field: 1 }), 'brand_new_field cannot be translated');
});

test('hint fields are dropped silently', () => {
  const out = anthropicToChatRequest(base({ cache_control: { type: 'ephemeral' }, service_tier: 'auto', speed: 'fast', context_management: { edits: [] } }), { model: 'm' });
  assert.deepStrictEqual(out, { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 });
});

test('a null rejected field passes (nothing to lose)', () => {
  assert.equal(anthropicToChatRequest(base({ top_k: null as unknown as number }), { model: 'm' }).model, 'm');
});

test('document blocks, server tools and unknown content types are rejected with their path', () => {
  rejects(base({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } }] }] }), 'messages[0].content[0] (document block)');
  rejects(base({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }), 'tools[0] of type "web_search_20250305"');
  rejects(base({ tools: [{ type: 'bash_20250124', name: 'bash' }] }), 'tools[0] of type "bash_20250124"');
  rejects(base({ messages: [{ role: 'user', content: [{ type: 'search_result', source: 's', title: 't', content: [] } as never] }] }), 'messages[0].content[0] of type "search_result"');
  rejects(base({ messages: [{ role: 'assistant', content: [{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } as never] }] }), 'messages[0].content[0] of type "server_tool_use"');
  rejects(base({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] }] }), 'messages[0].content[0].source.type "file"');
  rejects(base({ messages: [{ role: 'developer' as never, content: 'x' }] }), 'messages[0].role "developer"');
  rejects(base({ messages: [{ role: 'system', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBO' } }] }] }), 'messages[0].content[0] of type "image"');
  rejects(base({ messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }] }] }), 'messages[0].content[0].content[0] of type "document"');
});

test('missing messages or max_tokens is a 400', () => {
  rejects({ model: 'x', max_tokens: 5 } as AnthropicRequest, 'messages');
  rejects({ model: 'x', messages: [] } as unknown as AnthropicRequest, 'max_tokens');
});

test("reasoningField 'none' drops thinking; default is reasoning_content", () => {
  const req = base({ messages: [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 'why', signature: 'sig' }, { type: 'text', text: 'a' }] },
  ] });
  assert.deepStrictEqual(anthropicToChatRequest(req, { model: 'm', reasoningField: 'none' }).messages[1], { role: 'assistant', content: 'a' });
  assert.deepStrictEqual(anthropicToChatRequest(req, { model: 'm' }).messages[1], { role: 'assistant', content: 'a', reasoning_content: 'why' });
});

test('thinking is not turned into reasoning_effort unless the option is on', () => {
  const req = base({ max_tokens: 40000, thinking: { type: 'enabled', budget_tokens: 31999 } });
  assert.equal(anthropicToChatRequest(req, { model: 'm' }).reasoning_effort, undefined);
  assert.equal(anthropicToChatRequest(req, { model: 'm', reasoningEffort: true }).reasoning_effort, 'high');
  assert.equal(anthropicToChatRequest(base({ thinking: { type: 'disabled' } }), { model: 'm', reasoningEffort: true }).reasoning_effort, undefined);
});

test('tool_choice any/auto/none map to required/auto/none', () => {
  const tools = [{ name: 't', input_schema: { type: 'object' } }];
  assert.equal(anthropicToChatRequest(base({ tools, tool_choice: { type: 'any' } }), { model: 'm' }).tool_choice, 'required');
  assert.equal(anthropicToChatRequest(base({ tools, tool_choice: { type: 'auto' } }), { model: 'm' }).tool_choice, 'auto');
  assert.equal(anthropicToChatRequest(base({ tools, tool_choice: { type: 'none' } }), { model: 'm' }).tool_choice, 'none');
});

test('every policy entry has a reason unless translated', () => {
  for (const [field, rule] of Object.entries(ANTHROPIC_REQUEST_FIELDS)) {
    if (rule.action !== 'translate') assert.ok(rule.why.length > 5, field);
  }
});
