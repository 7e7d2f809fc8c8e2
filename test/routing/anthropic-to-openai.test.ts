// The official Anthropic SDK through Sluice, routed by a rule to an OpenAI-compatible provider
// (the mock in openai-mock.ts): non-streaming, streaming with tools, the tool-result turn with
// reasoning kept across it, upstream errors in Anthropic's envelope, and what the ledger records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, rawRequest, authHeaders, type Stack } from '../helpers.js';
import { MOCK_REASONING, MOCK_TEXT, startOpenAiMock, type OpenAiMock } from './openai-mock.js';

const SESSION = '7b0c3f7e-1111-4aaa-8bbb-000000000001';
let s: Stack;
let oai: OpenAiMock;
let client: Anthropic;

before(async () => {
  oai = await startOpenAiMock();
  s = await startStack({ tokenName: 'sdk', env: { SLUICE_DEEPSEEK_API_KEY: 'test-key-deepseek' } });
  await s.gw.settings.update((st) => {
    st.providers.deepseek = { type: 'openai-compatible', baseUrl: oai.baseUrl, models: [], discoverModels: true, headers: { 'X-Title': 'sluice-test' } } as never;
    st.routing.rules = [{ name: 'cheap', match: { model: 'claude-sonnet-*' }, target: { provider: 'deepseek', model: 'deepseek-chat' }, fallbacks: [] }] as never;
  });
  client = new Anthropic({ baseURL: s.gw.url, apiKey: s.token, maxRetries: 0, defaultHeaders: { 'x-claude-code-session-id': SESSION } });
});
after(async () => {
  await s.close();
  await oai.close();
});

const tools = [{ name: 'list_files', description: 'List files in a directory', input_schema: { type: 'object' as const, properties: { path: { type: 'string' } }, required: ['path'] } }];

test('messages.create is translated to a chat completion and back', async () => {
  const before = oai.requests.length;
  const { data: msg, response } = await client.messages.create({
    model: 'claude-sonnet-4-6', max_tokens: 100, system: [{ type: 'text', text: 'Be terse.' }], messages: [{ role: 'user', content: 'hi' }],
  }).withResponse();
  assert.equal(msg.model, 'claude-sonnet-4-6', 'the client sees the model it asked for');
  assert.equal(msg.stop_reason, 'end_turn');
  assert.deepEqual(msg.content.map((b) => b.type), ['thinking', 'text']);
  assert.equal((msg.content[1] as { text: string }).text, MOCK_TEXT);
  assert.equal(msg.usage.cache_read_input_tokens, 1000);
  assert.equal(msg.usage.input_tokens, 200, 'prompt_tokens minus cached');
  assert.equal(response.headers.get('x-sluice-route'), 'cheap');
  assert.equal(response.headers.get('x-sluice-served-by'), 'deepseek; model=deepseek-chat');
  assert.equal(response.headers.get('request-id'), `req-oai-${before + 1}`);

  const up = oai.requests.at(-1)!;
  assert.equal(up.url, '/v1/chat/completions');
  assert.equal(up.headers.authorization, 'Bearer test-key-deepseek');
  assert.equal(up.headers['x-api-key'], undefined, 'the Sluice token never reaches the provider');
  assert.equal(up.headers['anthropic-version'], undefined);
  assert.equal(up.headers['x-title'], 'sluice-test');
  assert.deepEqual(up.json!.messages, [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hi' }]);
  assert.equal(up.json!.model, 'deepseek-chat');
  assert.equal(up.json!.max_tokens, 100);
});

test('streaming with tools, then the tool-result turn carries reasoning_content back upstream', async () => {
  const stream = client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 256, tools, messages: [{ role: 'user', content: 'What is here?' }] });
  const thinking: string[] = [];
  stream.on('thinking', (d) => thinking.push(d));
  const first = await stream.finalMessage();
  assert.equal(first.stop_reason, 'tool_use');
  assert.equal(thinking.join(''), MOCK_REASONING);
  const toolUse = first.content.find((b) => b.type === 'tool_use');
  assert.ok(toolUse && toolUse.type === 'tool_use');
  assert.equal(toolUse.id, 'call_mock_1');
  assert.deepEqual(toolUse.input, { path: '.' });
  assert.equal(first.usage.output_tokens, 40, 'message_delta carries the upstream usage');
  assert.equal(oai.requests.at(-1)!.json!.stream_options && (oai.requests.at(-1)!.json!.stream_options as { include_usage: boolean }).include_usage, true);

  const second = await client.messages.stream({
    model: 'claude-sonnet-4-6', max_tokens: 256, tools,
    messages: [
      { role: 'user', content: 'What is here?' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'a.txt\nb.txt' }] },
    ],
  }).finalMessage();
  assert.equal(second.stop_reason, 'end_turn');
  assert.equal((second.content.find((b) => b.type === 'text') as { text: string }).text, MOCK_TEXT);

  const msgs = oai.requests.at(-1)!.json!.messages as { role: string; content: unknown; reasoning_content?: string; tool_calls?: { id: string; function: { arguments: string } }[]; tool_call_id?: string }[];
  const assistant = msgs.find((m) => m.role === 'assistant')!;
  assert.equal(assistant.reasoning_content, MOCK_REASONING, 'the thinking from turn one went back as reasoning_content');
  assert.equal(assistant.tool_calls![0]!.id, 'call_mock_1');
  assert.deepEqual(JSON.parse(assistant.tool_calls![0]!.function.arguments), { path: '.' });
  const tool = msgs.find((m) => m.role === 'tool')!;
  assert.equal(tool.tool_call_id, 'call_mock_1');
  assert.equal(tool.content, 'a.txt\nb.txt');
});

test('the ledger records the requested and served model, the route and the provider', async () => {
  await s.gw.flushUsage();
  const rows = s.gw.ledger!.getSession(SESSION, { limit: 100 })!.requests;
  assert.ok(rows.length >= 3);
  for (const r of rows) {
    assert.equal(r.requestedModel, 'claude-sonnet-4-6');
    assert.equal(r.servedModel, 'deepseek-chat-v3-mock', 'the model the upstream reported serving');
    assert.equal(r.route, 'cheap');
    assert.equal(r.provider, 'deepseek');
    assert.equal(r.target, 'deepseek');
    assert.equal(r.status, 200);
    assert.equal(r.outputTokens, 40);
    assert.equal(r.cacheReadTokens, 1000);
    assert.equal(r.inputTokens, 200);
    assert.equal(r.keyId, 'deepseek:env');
  }
  assert.ok(rows.some((r) => r.stream) && rows.some((r) => !r.stream));
});

test('an upstream error comes back in Anthropic\'s envelope with its status', async () => {
  oai.failNext(400, { error: { message: 'Invalid max_tokens value', type: 'invalid_request_error', code: 'invalid_value' } });
  const err = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
  assert.ok(err instanceof Anthropic.BadRequestError, String(err));
  assert.equal((err.error as { error: { type: string; message: string } }).error.type, 'invalid_request_error');
  assert.equal((err.error as { error: { message: string } }).error.message, 'Invalid max_tokens value');
});

test('a field that cannot cross is a 400 naming it, and nothing is sent', async () => {
  const n = oai.requests.length;
  const res = await rawRequest(`${s.gw.url}/v1/messages`, {
    method: 'POST', headers: authHeaders(s.token),
    body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 10, top_k: 5, messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(res.status, 400);
  assert.match(res.body.toString(), /top_k/);
  assert.equal(oai.requests.length, n);
});

test('a 429 from the provider is retried on the rule\'s fallback', async () => {
  await s.gw.settings.update((st) => {
    st.routing.rules[0]!.fallbacks = [{ provider: 'anthropic', model: 'claude-haiku-4-5' }];
  });
  oai.failNext(429, { error: { message: 'Rate limit reached', type: 'requests' } });
  const { data: msg, response } = await client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal((msg.content[0] as { text: string }).text, 'Hello from the mock.');
  assert.equal(response.headers.get('x-sluice-served-by'), 'anthropic; model=claude-haiku-4-5');
  assert.equal(response.headers.get('x-sluice-fallback'), '1');
  assert.equal(JSON.parse(s.mock.requests.at(-1)!.body.toString()).model, 'claude-haiku-4-5');
  await s.gw.settings.update((st) => { st.routing.rules[0]!.fallbacks = []; });
});
