// The official Anthropic TypeScript SDK through Sluice: create, stream with a tool-use turn,
// countTokens, models.list. The SDK is pointed at the gateway by baseURL and a Sluice token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicBehavior, messageJson, streamEvents, toolUseStreamEvents, type Behavior } from './mock-upstream.js';
import { headerMap, PROVIDER_KEY, startStack, type Stack } from './helpers.js';

/** Answers a weather question with a tool call, and a tool result with text. */
const toolBehavior: Behavior = async (req, res, mock) => {
  if (!req.url.startsWith('/v1/messages') || req.url.startsWith('/v1/messages/')) return anthropicBehavior(req, res, mock);
  const body = JSON.parse(req.body.toString()) as { stream?: boolean; tools?: unknown[]; messages: { role: string; content: unknown }[] };
  const last = body.messages.at(-1)!;
  const hasResult = Array.isArray(last.content) && last.content.some((b: { type?: string }) => b.type === 'tool_result');
  if (!body.tools || hasResult) return anthropicBehavior(req, res, mock);
  const events = toolUseStreamEvents({ id: 'msg_tool_1', model: 'claude-sonnet-4-5-20250929' });
  await streamEvents(req, res, events, 5);
};

let s: Stack;
let client: Anthropic;
before(async () => {
  s = await startStack({ behavior: toolBehavior, tokenName: 'sdk' });
  client = new Anthropic({ baseURL: s.gw.url, apiKey: s.token, maxRetries: 0 });
});
after(() => s.close());

test('messages.create', async () => {
  const msg = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(msg.type, 'message');
  assert.equal(msg.content[0]!.type, 'text');
  assert.equal((msg.content[0] as { text: string }).text, 'Hello from the mock.');
  assert.equal(msg.usage.cache_read_input_tokens, 2000);
  const rec = s.mock.requests.at(-1)!;
  assert.deepEqual(headerMap(rec.rawHeaders).get('x-api-key'), [PROVIDER_KEY]);
  assert.equal(JSON.parse(rec.body.toString()).model, 'claude-sonnet-4-6');
});

test('messages.stream with a tool-use turn, then the tool result turn', async () => {
  const tools = [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } }];
  const stream = client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 256, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
  const texts: string[] = [];
  stream.on('text', (t) => texts.push(t));
  const first = await stream.finalMessage();
  assert.equal(first.stop_reason, 'tool_use');
  assert.deepEqual(texts, ['Checking.']);
  const toolUse = first.content.find((b) => b.type === 'tool_use');
  assert.ok(toolUse && toolUse.type === 'tool_use');
  assert.deepEqual(toolUse.input, { city: 'Paris' });
  assert.equal(first.usage.output_tokens, 30);

  const second = await client.messages.stream({
    model: 'claude-sonnet-4-6', max_tokens: 256, tools,
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '18C, clear' }] },
    ],
  }).finalMessage();
  assert.equal(second.stop_reason, 'end_turn');
  assert.equal((second.content[0] as { text: string }).text, 'Hello from the mock.');
  const sentBody = JSON.parse(s.mock.requests.at(-1)!.body.toString());
  assert.equal(sentBody.messages[2].content[0].type, 'tool_result', 'the tool result turn reached upstream');
});

test('messages.countTokens', async () => {
  const r = await client.messages.countTokens({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(r.input_tokens, 1234);
  assert.equal(s.mock.requests.at(-1)!.url, '/v1/messages/count_tokens');
});

test('models.list', async () => {
  const ids: string[] = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['claude-opus-4-5-20251101', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001']);
});

test('upstream errors reach the SDK as the same typed errors', async () => {
  s.mock.setBehavior((req, res) => {
    res.writeHead(529, { 'content-type': 'application/json' });
    res.end('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');
  });
  await assert.rejects(
    client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (err: unknown) => err instanceof Anthropic.APIError && err.status === 529 && /Overloaded/.test(err.message),
  );
  s.mock.setBehavior(toolBehavior);
  const bad = new Anthropic({ baseURL: s.gw.url, apiKey: 'sk-sluice-not-a-token', maxRetries: 0 });
  await assert.rejects(bad.messages.create({ model: 'm', max_tokens: 1, messages: [] }), (err: unknown) => err instanceof Anthropic.AuthenticationError);
  assert.ok(messageJson().id);
});
