// Routing through a real gateway: a rule that keeps first-party Anthropic and the model forwards
// the client's bytes unchanged (and says so in x-sluice-route); an A/B rule's arm lands in the
// ledger and in the report; chat clients routed to a chat provider get its bytes; a keyless local
// provider gets no credential; /v1/models merges the catalogue in each client's shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { authHeaders, headerMap, rawRequest, startStack, type Stack } from '../helpers.js';
import { MODELS } from '../mock-upstream.js';
import { startOpenAiMock, MOCK_TEXT, type OpenAiMock } from './openai-mock.js';
import { abReportFromLedger } from '../../proxy/routing/index.js';

let s: Stack;
let oai: OpenAiMock;
before(async () => {
  oai = await startOpenAiMock();
  s = await startStack({ tokenName: 'claude-code', env: { SLUICE_DEEPSEEK_API_KEY: 'test-key-deepseek' } });
});
after(async () => {
  await s.close();
  await oai.close();
});

async function configure(rules: unknown[], providers: Record<string, unknown> = {}): Promise<void> {
  await s.gw.settings.update((st) => {
    for (const k of Object.keys(st.providers)) if (k !== 'anthropic') delete st.providers[k];
    Object.assign(st.providers, providers);
    st.routing.rules = rules as never;
  });
}
const deepseek = () => ({ deepseek: { type: 'openai-compatible', baseUrl: oai.baseUrl } });

test('a rule to first-party Anthropic with the requested model forwards the bytes unchanged', async () => {
  await configure([{ name: 'keep', match: { model: 'claude-*' }, target: { provider: 'anthropic' } }], deepseek());
  // Odd spacing and key order: any re-serialisation would show.
  const body = '{ "max_tokens":12,"model" : "claude-sonnet-4-6",\n"messages":[{"role":"user","content":"hi"}], "stream": true}';
  const res = await rawRequest(`${s.gw.url}/v1/messages?beta=true`, { method: 'POST', headers: authHeaders(s.token, { 'anthropic-beta': 'claude-code-20250219' }), body });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-sluice-route'], 'keep');
  assert.equal(res.headers['x-sluice-served-by'], 'anthropic');
  const up = s.mock.requests.at(-1)!;
  assert.ok(up.body.equals(Buffer.from(body)), 'identical bytes upstream');
  assert.equal(up.url, '/v1/messages?beta=true');
  assert.deepEqual(headerMap(up.rawHeaders).get('anthropic-beta'), ['claude-code-20250219']);
  assert.ok(Buffer.concat(up.sent).equals(res.body), 'identical bytes back');
});

test('a rule naming another Claude model rewrites only the model', async () => {
  await configure([{ name: 'down', match: { model: 'claude-opus-*' }, target: { provider: 'anthropic', model: 'claude-sonnet-4-6' } }]);
  const body = '{"model":"claude-opus-4-8","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}';
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-sluice-route'], 'down');
  assert.equal(s.mock.requests.at(-1)!.body.toString(), body.replace('claude-opus-4-8', 'claude-sonnet-4-6'));
});

test('without rules or other providers there is no route header and no rewrite', async () => {
  await configure([]);
  const res = await rawRequest(`${s.gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(s.token), body: '{"model":"deepseek/x","max_tokens":5,"messages":[]}' });
  assert.equal(res.headers['x-sluice-route'], undefined);
  assert.equal(JSON.parse(s.mock.requests.at(-1)!.body.toString()).model, 'deepseek/x');
});

test('an A/B rule: sticky arm per session, in the header, the ledger and the report', async () => {
  await configure([{ name: 'trial', match: { model: 'claude-sonnet-*' }, arms: [
    { name: 'claude', weight: 1, target: { provider: 'anthropic' } },
    { name: 'deepseek', weight: 1, target: { provider: 'deepseek', model: 'deepseek-chat' } },
  ] }], deepseek());
  const seen = new Map<string, string>();
  for (let i = 0; i < 24; i++) {
    const session = `5f1c1a9e-0000-4000-8000-${String(i % 8).padStart(12, '0')}`;
    const res = await rawRequest(`${s.gw.url}/v1/messages`, {
      method: 'POST', headers: authHeaders(s.token, { 'x-claude-code-session-id': session }),
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200, res.body.toString());
    const arm = /arm=(\w+)/.exec(String(res.headers['x-sluice-route']))![1]!;
    if (seen.has(session)) assert.equal(arm, seen.get(session), 'sticky per session');
    seen.set(session, arm);
    const text = JSON.parse(res.body.toString()).content.find((b: { type: string }) => b.type === 'text').text;
    assert.equal(text, arm === 'claude' ? 'Hello from the mock.' : MOCK_TEXT);
  }
  assert.deepEqual(new Set(seen.values()), new Set(['claude', 'deepseek']), '8 sessions split over both arms');
  await s.gw.flushUsage();
  const report = abReportFromLedger(s.gw.ledger!, { rule: 'trial' });
  assert.equal(report.rules.length, 1);
  const arms = report.rules[0]!.arms;
  assert.deepEqual(arms.map((a) => a.arm), ['claude', 'deepseek']);
  assert.equal(arms[0]!.requests + arms[1]!.requests, 24);
  const bySession = [...seen.values()];
  assert.equal(arms[1]!.requests, 3 * bySession.filter((a) => a === 'deepseek').length);
  assert.deepEqual(arms[1]!.servedModels, ['deepseek-chat-v3-mock']);
  assert.equal(arms[1]!.outputTokens, 40 * arms[1]!.requests);
  assert.equal(arms[0]!.errors, 0);
  assert.ok(arms[0]!.costPerRequestUsd! > 0, 'Claude rows are priced');
  assert.ok(arms[0]!.latencyP95Ms! >= arms[0]!.latencyP50Ms!);
});

test('a chat client routed to a chat provider gets the provider\'s bytes; usage is asked for and metered', async () => {
  await configure([{ name: 'gpt', match: { model: 'gpt-*' }, target: { provider: 'deepseek', model: 'deepseek-chat' } }], deepseek());
  const res = await rawRequest(`${s.gw.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', 'x-claude-code-session-id': 'c2c-session' },
    body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200);
  const text = res.body.toString();
  assert.match(text, /"model":"deepseek-chat-v3-mock"/, 'the provider\'s own chunks');
  assert.match(text, /data: \[DONE\]/);
  const up = oai.requests.at(-1)!;
  assert.deepEqual(up.json!.stream_options, { include_usage: true });
  assert.equal(up.json!.model, 'deepseek-chat');
  await s.gw.flushUsage();
  const row = s.gw.ledger!.getSession('c2c-session')!.requests[0]!;
  assert.equal(row.requestedModel, 'gpt-5');
  assert.equal(row.servedModel, 'deepseek-chat-v3-mock');
  assert.equal(row.outputTokens, 40);
  assert.equal(row.route, 'gpt');
});

test('a keyless local provider gets neither the Sluice token nor a key', async () => {
  await configure([{ name: 'local', match: { alias: 'local-coder' }, target: { provider: 'ollama', model: 'qwen3' } }], {
    ollama: { type: 'openai-compatible', baseUrl: oai.baseUrl, auth: 'none' },
  });
  const res = await rawRequest(`${s.gw.url}/v1/messages`, {
    method: 'POST', headers: authHeaders(s.token),
    body: JSON.stringify({ model: 'local-coder', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200, res.body.toString());
  const up = oai.requests.at(-1)!;
  assert.equal(up.headers.authorization, undefined);
  assert.equal(up.headers['x-api-key'], undefined);
  assert.equal(up.json!.model, 'qwen3');
  assert.equal(JSON.parse(res.body.toString()).model, 'local-coder');
});

test('/v1/models: byte for byte without extras; merged, per client shape, with them', async () => {
  await configure([]);
  const plain = await rawRequest(`${s.gw.url}/v1/models`, { headers: authHeaders(s.token) });
  assert.ok(plain.body.equals(Buffer.concat(s.mock.requests.at(-1)!.sent)));

  await configure([{ name: 'fast', match: { alias: 'claude-fast' }, target: { provider: 'deepseek', model: 'deepseek-chat' } }], { deepseek: { ...deepseek().deepseek, models: ['deepseek-coder'] } });
  const sdk = await rawRequest(`${s.gw.url}/v1/models?limit=1000`, { headers: authHeaders(s.token, { 'user-agent': 'Anthropic/JS 1.11.0' }) });
  const a = JSON.parse(sdk.body.toString()) as { data: { id: string; type: string }[]; has_more: boolean; last_id: string };
  assert.deepEqual(a.data.map((m) => m.id), [...MODELS.map((m) => m.id), 'claude-fast', 'deepseek/deepseek-coder', 'deepseek/deepseek-chat', 'deepseek/deepseek-reasoner']);
  assert.ok(a.data.every((m) => m.type === 'model'));
  assert.equal(a.last_id, 'deepseek/deepseek-reasoner');
  assert.equal(oai.requests.at(-1)!.url, '/v1/models', 'discovered from the provider');
  assert.equal(oai.requests.at(-1)!.headers.authorization, 'Bearer test-key-deepseek');

  const cc = await rawRequest(`${s.gw.url}/v1/models?limit=1000`, { headers: authHeaders(s.token, { 'user-agent': 'claude-cli/2.1.197 (external, cli)' }) });
  const ids = (JSON.parse(cc.body.toString()) as { data: { id: string }[] }).data.map((m) => m.id);
  assert.ok(ids.includes('claude-via/deepseek/deepseek-chat'), 'visible to Claude Code\'s claude/anthropic filter');
  assert.ok(ids.every((id) => /claude|anthropic/.test(id)));

  const discoveries = oai.requests.filter((r) => r.url === '/v1/models').length;
  const oa = await rawRequest(`${s.gw.url}/v1/models`, { headers: { authorization: `Bearer ${s.token}`, 'user-agent': 'OpenAI/JS 6.49.0' } });
  const o = JSON.parse(oa.body.toString()) as { object: string; data: { id: string; object: string; owned_by: string }[] };
  assert.equal(o.object, 'list');
  assert.equal(o.data.find((m) => m.id === 'deepseek/deepseek-chat')!.owned_by, 'deepseek');
  assert.equal(o.data.find((m) => m.id === 'claude-sonnet-4-5-20250929')!.owned_by, 'anthropic');
  assert.equal(oai.requests.filter((r) => r.url === '/v1/models').length, discoveries, 'the discovered list is cached');

  const one = await rawRequest(`${s.gw.url}/v1/models/claude-fast`, { headers: authHeaders(s.token) });
  assert.equal(JSON.parse(one.body.toString()).id, 'claude-fast');

  // Routing by a listed id works: Claude Code would send exactly this.
  const viaId = await rawRequest(`${s.gw.url}/v1/messages`, {
    method: 'POST', headers: authHeaders(s.token),
    body: JSON.stringify({ model: 'claude-via/deepseek/deepseek-reasoner', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(viaId.status, 200);
  assert.equal(viaId.headers['x-sluice-route'], 'direct');
  assert.equal(oai.requests.at(-1)!.json!.model, 'deepseek-reasoner');
});
