// Tests for Anthropic events -> chat completion chunks: fixtures/a2c-stream line for line, the
// truncation and failure paths, and the real OpenAI SDK consuming the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { InvalidRequestError } from '../../errors.js';
import { createAnthropicToChatStream } from './stream-to-chat.js';
import type { AnthropicStreamEvent } from './types.js';

interface Fixture {
  description: string;
  requestedModel: string;
  includeUsage: boolean;
  now: number;
  events: AnthropicStreamEvent[];
  servedModel: string;
  lines: unknown[];
}

const dir = new URL('./fixtures/a2c-stream/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Fixture] as const);

/** Each line must be `data: <json or [DONE]>\n\n`; returns the payloads. */
function payloads(lines: string[]): unknown[] {
  return lines.map((line) => {
    const m = /^data: (.+)\n\n$/s.exec(line);
    assert.ok(m, `bad line ${JSON.stringify(line)}`);
    return m[1] === '[DONE]' ? '[DONE]' : JSON.parse(m[1]!);
  });
}

function run(fx: Fixture): string[] {
  const t = createAnthropicToChatStream({ requestedModel: fx.requestedModel, includeUsage: fx.includeUsage, clock: () => fx.now });
  const lines = fx.events.flatMap((e) => t.push(e));
  lines.push(...t.end());
  assert.equal(t.servedModel, fx.servedModel);
  return lines;
}

test('a2c-stream fixtures exist', () => {
  assert.ok(fixtures.length >= 3);
});

for (const [file, fx] of fixtures) {
  test(`createAnthropicToChatStream: ${file} (${fx.description})`, () => {
    assert.deepStrictEqual(payloads(run(fx)), fx.lines);
  });
}

test('line framing is exact', () => {
  const t = createAnthropicToChatStream({ requestedModel: 'gpt-x', includeUsage: false, clock: () => 2000 });
  assert.deepStrictEqual(t.push({ event: 'message_start', data: { type: 'message_start', message: { id: 'msg_1', model: 'claude', usage: { input_tokens: 1 } } } }), [
    'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":2,"model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n',
  ]);
});

test('a stream that ends before message_stop yields an error chunk and [DONE]', () => {
  const t = createAnthropicToChatStream({ requestedModel: 'gpt-x', includeUsage: false, clock: () => 0 });
  t.push({ event: 'message_start', data: { type: 'message_start', message: { id: 'msg_2', model: 'claude', usage: { input_tokens: 1 } } } });
  assert.deepStrictEqual(payloads(t.end()), [
    { error: { message: 'The upstream stream ended before message_stop (truncated response).', type: 'gateway_upstream_error', code: 'GATEWAY_UPSTREAM_BAD_RESPONSE' } },
    '[DONE]',
  ]);
  assert.deepStrictEqual(t.end(), []);
});

test('fail() carries the gateway error type and code', () => {
  const t = createAnthropicToChatStream({ requestedModel: 'gpt-x', includeUsage: true, clock: () => 0 });
  assert.deepStrictEqual(payloads(t.fail(new InvalidRequestError('nope'))), [
    { error: { message: 'nope', type: 'gateway_invalid_request_error', code: 'GATEWAY_INVALID_REQUEST' } },
    '[DONE]',
  ]);
});

test('usage getter accumulates message_start and cumulative message_delta usage', () => {
  const [, fx] = fixtures.find(([f]) => f === 'text-thinking-usage.json')!;
  const t = createAnthropicToChatStream({ requestedModel: 'x', includeUsage: false });
  for (const e of fx.events) t.push(e);
  assert.deepStrictEqual(t.usage, { input_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 500, output_tokens: 12 });
});

test('the OpenAI SDK assembles the translated stream (tool calls, usage)', async () => {
  const [, fx] = fixtures.find(([f]) => f === 'tools-no-usage.json')!;
  const body = run({ ...fx, includeUsage: true }).join('');
  const client = new OpenAI({
    apiKey: 'test-key-1',
    baseURL: 'http://sluice.invalid/v1',
    maxRetries: 0,
    fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
  });
  const final = await client.chat.completions.stream({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } }).finalChatCompletion();
  assert.equal(final.id, 'chatcmpl-t2');
  assert.equal(final.model, 'claude-sonnet-4-5');
  const choice = final.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, 'Checking.');
  assert.deepStrictEqual(choice.message.tool_calls?.map((c) => c.type === 'function' ? [c.id, c.function.name, c.function.arguments] : []), [
    ['toolu_01A', 'get_weather', '{"city": "Paris"}'],
    ['toolu_01B', 'now', ''],
  ]);
  assert.deepStrictEqual(final.usage, { prompt_tokens: 50, completion_tokens: 40, total_tokens: 90, prompt_tokens_details: { cached_tokens: 0 } });
});

test('the OpenAI SDK raises the mid-stream error chunk as an APIError', async () => {
  const [, fx] = fixtures.find(([f]) => f === 'error-mid-stream.json')!;
  const body = run(fx).join('');
  const client = new OpenAI({ apiKey: 'test-key-1', baseURL: 'http://sluice.invalid/v1', maxRetries: 0, fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }) });
  const stream = await client.chat.completions.create({ model: 'c', messages: [{ role: 'user', content: 'x' }], stream: true });
  await assert.rejects(async () => { for await (const _ of stream) { /* drain */ } }, (err: unknown) => err instanceof OpenAI.APIError && err.message.includes('Overloaded'));
});
