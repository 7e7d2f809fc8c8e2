// The official OpenAI SDK (v6) against Sluice's /v1/chat/completions with the Anthropic mock
// upstream: non-streaming, streaming with usage, tools, the tool-result turn, errors, the model
// list in OpenAI's shape, and the ledger rows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { anthropicBehavior, streamEvents, toolUseStreamEvents, type Behavior } from '../mock-upstream.js';
import { headerMap, PROVIDER_KEY, startStack, type Stack } from '../helpers.js';

/** Calls get_weather when tools are offered and no result came back yet; otherwise text. */
const behavior: Behavior = async (req, res, mock) => {
  if (req.url.split('?')[0] !== '/v1/messages') return anthropicBehavior(req, res, mock);
  const body = JSON.parse(req.body.toString()) as { stream?: boolean; tools?: unknown[]; messages: { role: string; content: unknown }[] };
  const last = body.messages.at(-1)!;
  const hasResult = Array.isArray(last.content) && last.content.some((b: { type?: string }) => b.type === 'tool_result');
  if (!body.tools || hasResult || !body.stream) return anthropicBehavior(req, res, mock);
  await streamEvents(req, res, toolUseStreamEvents({ id: 'msg_tool_9', model: 'claude-sonnet-4-6' }), 2);
};

let s: Stack;
let client: OpenAI;
before(async () => {
  s = await startStack({ behavior, tokenName: 'openai-client' });
  client = new OpenAI({ baseURL: `${s.gw.url}/v1`, apiKey: s.token, maxRetries: 0 });
});
after(() => s.close());

const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];

test('chat.completions.create (non-streaming) reaches Anthropic as a Messages request', async () => {
  const r = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }], max_tokens: 50 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'claude-sonnet-4-6');
  assert.equal(r.choices[0]!.message.content, 'Hello from the mock.');
  assert.equal(r.choices[0]!.finish_reason, 'stop');
  // prompt = input + cache writes + cache reads (12 + 100 + 2000).
  assert.equal(r.usage!.prompt_tokens, 2112);
  assert.equal(r.usage!.prompt_tokens_details!.cached_tokens, 2000);
  assert.equal(r.usage!.completion_tokens, 9);

  const up = s.mock.requests.at(-1)!;
  assert.equal(up.url, '/v1/messages');
  const body = JSON.parse(up.body.toString());
  assert.deepEqual(body, { model: 'claude-sonnet-4-6', max_tokens: 50, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] });
  const h = headerMap(up.rawHeaders);
  assert.deepEqual(h.get('x-api-key'), [PROVIDER_KEY]);
  assert.equal(h.get('authorization'), undefined, 'the Sluice bearer token is not forwarded');
  assert.deepEqual(h.get('anthropic-version'), ['2023-06-01']);
});

test('streaming with include_usage: role first, content deltas, finish, usage chunk, [DONE]', async () => {
  const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello from the mock.');
  const finish = chunks.find((c) => c.choices[0]?.finish_reason);
  assert.equal(finish!.choices[0]!.finish_reason, 'stop');
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage!.completion_tokens, 9);
  assert.equal(last.usage!.prompt_tokens, 2112);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'every other chunk has usage: null');
  assert.equal(JSON.parse(s.mock.requests.at(-1)!.body.toString()).stream, true);
});

test('tools: a streamed tool call with index, id and name on its first chunk, then the tool-result turn', async () => {
  const stream = await client.chat.completions.create({ model: 'claude-sonnet-4-6', tools, messages: [{ role: 'user', content: 'Weather in Paris?' }], stream: true });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.equal(calls[0]!.index, 0);
  assert.equal(calls[0]!.id, 'toolu_01');
  assert.equal(calls[0]!.function!.name, 'get_weather');
  assert.ok(calls.slice(1).every((c) => c.index === 0 && c.id === undefined && c.function?.name === undefined));
  assert.deepEqual(JSON.parse(calls.map((c) => c.function?.arguments ?? '').join('')), { city: 'Paris' });
  assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)!.choices[0]!.finish_reason, 'tool_calls');
  assert.ok(chunks.every((c) => !('usage' in c) || c.usage === undefined), 'no usage fields without include_usage');

  const r = await client.chat.completions.create({
    model: 'claude-sonnet-4-6', tools,
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_01', content: '18°C, clear' },
    ],
  });
  assert.equal(r.choices[0]!.message.content, 'Hello from the mock.');
  const sent = JSON.parse(s.mock.requests.at(-1)!.body.toString()) as { messages: { role: string; content: { type: string; [k: string]: unknown }[] }[] };
  assert.deepEqual(sent.messages[1], { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } }] });
  assert.deepEqual(sent.messages[2], { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '18°C, clear' }] });
});

test('an upstream error reaches the SDK as an APIError with the status and message', async () => {
  s.mock.setBehavior((req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'messages: at least one message is required' } }));
  });
  try {
    const err = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.message, '400 messages: at least one message is required');
    assert.equal((err.error as { type: string }).type, 'invalid_request_error');
  } finally {
    s.mock.setBehavior(behavior);
  }
});

test('a chat field Claude cannot honour is a 400 naming it', async () => {
  const err = await client.chat.completions.create({ model: 'claude-sonnet-4-6', n: 2, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
  assert.ok(err instanceof OpenAI.BadRequestError);
  assert.match(err.message, /n=2/);
});

test('models.list answers in OpenAI\'s shape', async () => {
  const ids: string[] = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.created, 'number');
    ids.push(m.id);
  }
  assert.deepEqual(ids, ['claude-opus-4-5-20251101', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001']);
});

test('the ledger bills chat completions as messages with Anthropic usage', async () => {
  await s.gw.flushUsage();
  const page = s.gw.ledger!.requestsInRange({ limit: 100 });
  const rows = page.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200);
  assert.ok(rows.length >= 4);
  for (const r of rows) {
    assert.equal(r.endpoint, 'messages');
    assert.equal(r.requestedModel, 'claude-sonnet-4-6');
    assert.equal(r.tool, 'openai-client');
    assert.equal(r.cacheReadTokens, 2000);
    assert.ok(r.billed);
    assert.ok(r.costUsd !== null && r.costUsd > 0);
  }
});
