// Tests for OpenAI chunks -> Anthropic SSE: fixtures/c2a-stream event for event, the SSE framing,
// and the real Anthropic SDK consuming the output (as Claude Code's client would).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import { createChatToAnthropicStream } from './stream-from-chat.js';
import type { ChatCompletionChunk } from './types.js';

interface Fixture {
  description: string;
  requestedModel: string;
  requestId: string;
  chunks: ChatCompletionChunk[];
  servedModel: string;
  events: Array<{ event: string; data: unknown }>;
}

const dir = new URL('./fixtures/c2a-stream/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Fixture] as const);

/** Splits SSE text into {event, data}; asserts the framing (`event:` line, one `data:` line, blank line). */
function parseSse(text: string): Array<{ event: string; data: unknown }> {
  assert.ok(text === '' || text.endsWith('\n\n'), 'SSE text must end with a blank line');
  return text.split('\n\n').filter((b) => b !== '').map((block) => {
    const m = /^event: ([a-z_]+)\ndata: (.+)$/.exec(block);
    assert.ok(m, `bad SSE block ${JSON.stringify(block)}`);
    return { event: m[1]!, data: JSON.parse(m[2]!) };
  });
}

function run(fx: Fixture): string {
  const t = createChatToAnthropicStream({ requestedModel: fx.requestedModel, requestId: fx.requestId });
  let out = '';
  for (const c of fx.chunks) out += t.push(c);
  out += t.end();
  assert.equal(t.servedModel, fx.servedModel);
  return out;
}

test('c2a-stream fixtures exist', () => {
  assert.ok(fixtures.length >= 4);
});

for (const [file, fx] of fixtures) {
  test(`createChatToAnthropicStream: ${file} (${fx.description})`, () => {
    assert.deepStrictEqual(parseSse(run(fx)), fx.events);
  });
}

test('SSE framing is exact', () => {
  const t = createChatToAnthropicStream({ requestedModel: 'claude-x' });
  const out = t.push({ id: 'chatcmpl-f', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'A' }, finish_reason: null }] });
  assert.equal(out,
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_f","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\n'
    + 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
    + 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"A"}}\n\n');
});

test('end() with no chunk at all is an error event; later calls produce nothing', () => {
  const t = createChatToAnthropicStream({ requestedModel: 'c', requestId: 'req_1' });
  assert.deepStrictEqual(parseSse(t.end()), [{ event: 'error', data: { type: 'error', error: { type: 'gateway_upstream_error', message: 'The upstream stream ended before sending any chunk.' }, request_id: 'req_1' } }]);
  assert.equal(t.end(), '');
  assert.equal(t.push({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [] }), '');
});

test('fail() with a non-gateway error reports a generic internal error, not the raw message', () => {
  const t = createChatToAnthropicStream({ requestedModel: 'c', requestId: 'req_2' });
  const [ev] = parseSse(t.fail(new Error('socket hang up at 10.0.0.5')));
  assert.deepStrictEqual(ev, { event: 'error', data: { type: 'error', error: { type: 'gateway_internal_error', message: 'Sluice hit an internal error; the request was not forwarded.' }, request_id: 'req_2' } });
});

test('the ledger sees usage through the getter', () => {
  const [, fx] = fixtures.find(([f]) => f === 'reasoning-interleaved-tools.json')!;
  const t = createChatToAnthropicStream({ requestedModel: fx.requestedModel });
  for (const c of fx.chunks) t.push(c);
  assert.deepStrictEqual(t.usage, { input_tokens: 464, output_tokens: 150, cache_creation_input_tokens: 0, cache_read_input_tokens: 1536, output_tokens_details: { thinking_tokens: 40 } });
});

test('the Anthropic SDK assembles the translated stream into the expected message', async () => {
  const [, fx] = fixtures.find(([f]) => f === 'reasoning-interleaved-tools.json')!;
  const body = run(fx);
  const client = new Anthropic({
    apiKey: 'test-key-1',
    baseURL: 'http://sluice.invalid',
    maxRetries: 0,
    fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
  });
  const message = await client.messages.stream({ model: 'claude-opus-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
  assert.equal(message.id, 'msg_a1b2');
  assert.equal(message.model, 'claude-opus-4-5');
  assert.equal(message.stop_reason, 'tool_use');
  assert.deepStrictEqual(message.content, [
    { type: 'thinking', thinking: 'Plan: read three.', signature: 'sluice-reasoning-v1' },
    { type: 'text', text: 'Reading.' },
    { type: 'tool_use', id: 'call_0', name: 'Read', input: { path: 'a' } },
    { type: 'tool_use', id: 'call_1', name: 'Read', input: { path: 'b' } },
    { type: 'tool_use', id: 'call_2', name: 'Grep', input: { __raw_arguments: '{bad' } },
  ]);
  assert.equal(message.usage.input_tokens, 464);
  assert.equal(message.usage.output_tokens, 150);
  assert.equal(message.usage.cache_read_input_tokens, 1536);
});

test('a long run of buffered tool-argument chunks pings once every 32 chunks', () => {
  const t = createChatToAnthropicStream({ requestedModel: 'c' });
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta']): ChatCompletionChunk => ({ id: 'p', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] });
  let out = t.push(chunk({ role: 'assistant' }));
  out += t.push(chunk({ tool_calls: [{ index: 0, id: 'call_p', type: 'function', function: { name: 'Write', arguments: '' } }] }));
  for (let i = 0; i < 40; i++) out += t.push(chunk({ tool_calls: [{ index: 0, function: { arguments: i === 0 ? '{"s":"' : 'x' } }] }));
  const events = parseSse(out).map((e) => e.event);
  assert.deepStrictEqual(events, ['message_start', 'ping', 'ping']);
});
