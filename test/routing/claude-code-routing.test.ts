// The real Claude Code CLI (2.1.197) routed by rules to the OpenAI-compatible mock. In `-p` mode
// Claude Code sends exactly one Messages request with its main model and no background (small/
// fast model) request, so the background rule is driven explicitly: `--model haiku` with
// ANTHROPIC_DEFAULT_HAIKU_MODEL makes its request use the Haiku id the `background` scenario
// matches (Claude Code's own background work uses that same model).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startStack, tempDir, type Stack } from '../helpers.js';
import { CLAUDE_BIN, runClaude } from '../claude-cli.js';
import { MOCK_TEXT, startOpenAiMock, type OpenAiMock } from './openai-mock.js';

let s: Stack;
let oai: OpenAiMock;
let home: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  oai = await startOpenAiMock({ callTools: false });
  s = await startStack({ tokenName: 'claude-code', env: { SLUICE_DEEPSEEK_API_KEY: 'test-key-deepseek' } });
  home = await tempDir('sluice-cc-routing-');
  await s.gw.settings.update((st) => {
    st.providers.deepseek = { type: 'openai-compatible', baseUrl: oai.baseUrl } as never;
    st.routing.rules = [
      { name: 'background', match: { scenario: 'background' }, target: { provider: 'deepseek', model: 'deepseek-chat' } },
      { name: 'main', match: { model: 'claude-*' }, target: { provider: 'deepseek', model: 'deepseek-reasoner' } },
    ] as never;
  });
});
after(async () => {
  await s.close();
  await oai.close();
  await home.cleanup();
});

const env = () => ({
  HOME: home.path,
  ANTHROPIC_BASE_URL: s.gw.url,
  ANTHROPIC_AUTH_TOKEN: s.token,
  DISABLE_AUTOUPDATER: '1',
  ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-4-5-20251001',
});

test('claude -p completes a prompt served by the OpenAI-compatible provider', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CLAUDE_BIN), `Claude Code binary missing at ${CLAUDE_BIN}`);
  const n = oai.requests.length;
  const run = await runClaude(['-p', 'Say hello'], env(), home.path, 100_000);
  assert.equal(run.code, 0, `claude exited ${run.code}: ${run.stderr} ${run.stdout}`);
  assert.equal(run.stdout.trim(), MOCK_TEXT);
  const sent = oai.requests.slice(n).filter((r) => r.url === '/v1/chat/completions');
  assert.ok(sent.length >= 1);
  const main = sent[0]!.json!;
  assert.equal(main.model, 'deepseek-reasoner');
  assert.equal(main.stream, true);
  assert.ok((main.tools as unknown[]).length > 10, 'Claude Code\'s tools crossed as functions');
  assert.equal((main.messages as { role: string }[])[0]!.role, 'system');
  assert.equal(s.mock.requests.filter((r) => r.url.startsWith('/v1/messages')).length, 0, 'nothing reached Anthropic');

  await s.gw.flushUsage();
  const rows = s.gw.ledger!.requestsInRange({ limit: 100 }).requests.filter((r) => r.route === 'main');
  assert.ok(rows.length >= 1);
  assert.match(rows[0]!.requestedModel ?? '', /^claude-/);
  assert.equal(rows[0]!.servedModel, 'deepseek-chat-v3-mock');
  assert.match(rows[0]!.sessionId ?? '', /^[0-9a-f-]{36}$/);
});

test('its Haiku (background) requests follow the background rule', { timeout: 120_000 }, async () => {
  const n = oai.requests.length;
  const run = await runClaude(['-p', '--model', 'haiku', 'Say hello'], env(), home.path, 100_000);
  assert.equal(run.code, 0, `claude exited ${run.code}: ${run.stderr} ${run.stdout}`);
  assert.equal(run.stdout.trim(), MOCK_TEXT);
  const sent = oai.requests.slice(n).filter((r) => r.url === '/v1/chat/completions');
  assert.ok(sent.length >= 1);
  assert.ok(sent.every((r) => r.json!.model === 'deepseek-chat'), 'every request went by the background rule');
  await s.gw.flushUsage();
  const rows = s.gw.ledger!.requestsInRange({ limit: 100 }).requests.filter((r) => r.route === 'background');
  assert.equal(rows.length, sent.length);
  assert.equal(rows[0]!.requestedModel, 'claude-haiku-4-5-20251001');
});
