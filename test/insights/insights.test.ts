// Insights through the real gateway: requests carrying a marker string in a repeated system
// prompt; the insights report the repeated prefix (hash, position, repeats, dollars at the price
// sheet), the marker is in no file under the data dir, and one click turns on cache injection
// for that tool. Then the ledger analyses on a seeded ledger: latency percentiles with retries
// apart, the hour x weekday heat map, the daily curve per model, tool-use turns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../proxy/gateway.js';
import { createLogger } from '../../proxy/log.js';
import { insightsExtension, type InsightsExtension, type InsightsReport } from '../../proxy/insights/index.js';
import { ledgerInsights } from '../../proxy/insights/ledger-insights.js';
import { makeRow } from '../../proxy/ledger/fixtures/rows.js';
import type { RequestRecord } from '../../proxy/ledger/index.js';
import { startMockUpstream, messageJson, sendJson, type MockUpstream } from '../mock-upstream.js';
import { PROVIDER_KEY, authHeaders, rawRequest, tempDir } from '../helpers.js';

const ADMIN = 'insights-admin-token';
// No cache read: the repeats are exactly what a breakpoint would have turned into reads.
const NO_CACHE = { input_tokens: 4000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } };
const MARKER = 'ZQX-MARKER-7731-do-not-store';
let mock: MockUpstream;
let gw: Gateway;
let ext: InsightsExtension;
let dir: { path: string; cleanup: () => Promise<void> };
let token: string;

before(async () => {
  mock = await startMockUpstream((req, res) => sendJson(req, res, 200, messageJson({ outputTokens: 5, usage: NO_CACHE })));
  dir = await tempDir('sluice-insights-');
  gw = await createGateway({
    dataDir: dir.path, port: 0, secrets: null,
    env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY },
    logger: createLogger({ level: 'silent' }),
    extensions: [(internals) => (ext = insightsExtension({ authorize: (req) => req.headers.authorization === `Bearer ${ADMIN}` })(internals))],
  });
  token = (await gw.tokens.create('agent')).token;
});
after(async () => {
  await gw.close({ drainMs: 1000 });
  await mock.close();
  await dir.cleanup();
});

async function filesUnder(p: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(p)) {
    const f = join(p, name);
    if ((await stat(f)).isDirectory()) out.push(...await filesUnder(f));
    else out.push(f);
  }
  return out;
}

const report = async (): Promise<InsightsReport> => {
  const r = await rawRequest(`${gw.url}/admin/api/insights`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(r.status, 200);
  return JSON.parse(r.body.toString()) as InsightsReport;
};

test('a repeated system prompt is reported as a cache candidate; its text is in no file', async () => {
  const system = `You are a coding agent. ${MARKER} `.repeat(400); // ~21 KB: about 5,300 tokens (bytes / 4)
  for (let i = 0; i < 4; i++) {
    const body = JSON.stringify({
      model: 'claude-sonnet-4-5-20250929', max_tokens: 16, system,
      messages: [{ role: 'user', content: `task ${MARKER}` }, { role: 'assistant', content: 'ok' }, { role: 'user', content: `step ${i}` }],
    });
    const r = await rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body });
    assert.equal(r.status, 200);
  }
  await gw.flushUsage();
  await ext.idle();
  const rep = await report();
  const top = rep.cache[0]!;
  assert.ok(top, 'a candidate');
  assert.equal(top.tool, 'agent');
  // The longest prefix every request shared: system plus the first two messages.
  assert.equal(top.position, 'messages[1]');
  assert.equal(top.repeats1h, 3);
  assert.equal(top.repeats5m, 3);
  assert.match(top.hash, /^[0-9a-f]{16}$/);
  assert.ok(top.tokens > 5300 && top.tokens < 5400, `tokens ${top.tokens}`);
  // Sonnet 4.5: 3 reads instead of inputs save 3 x ($3 - $0.30)/M per token, minus the 5m write premium ($0.75/M).
  const expected = (3 * (3 - 0.3) - 0.75) * top.tokens / 1e6;
  assert.ok(Math.abs(top.savingsUsd! - expected) < 1e-9, `${top.savingsUsd} vs ${expected}`);
  assert.equal(top.covered, false);
  assert.ok(!JSON.stringify(rep).includes(MARKER));

  // The marker is in no file of the data dir (ledger, WAL, settings, logs...).
  const files = await filesUnder(dir.path);
  assert.ok(files.some((f) => f.endsWith('ledger.sqlite')), 'the ledger was written');
  for (const f of files) assert.ok(!(await readFile(f)).includes(MARKER), `${f} holds the marker`);

  // One click: cache injection on for that tool, and the candidate is covered.
  const on = await rawRequest(`${gw.url}/admin/api/insights/cache/agent`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' } });
  assert.equal(on.status, 200);
  assert.equal((gw.settings.get() as { control: { tokens: Record<string, { injectCache: boolean }> } }).control.tokens.agent!.injectCache, true);
  assert.equal((await report()).cache[0]!.covered, true);
  const denied = await rawRequest(`${gw.url}/admin/api/insights`, {});
  assert.equal(denied.status, 401);
});

test('tool-call patterns: tool_use names and tool_result errors, names only (the inputs and results are in no report or file)', async () => {
  const use = (id: string, name: string) => ({ type: 'tool_use', id, name, input: { command: `cat ${MARKER}` } });
  const result = (id: string, isError = false) => ({ type: 'tool_result', tool_use_id: id, content: `output ${MARKER}`, is_error: isError });
  const turns = [
    [use('t1', 'Read'), use('t2', 'Grep')],
    [use('t3', 'Bash')],
    [use('t4', 'Read')],
  ];
  const history: unknown[] = [{ role: 'user', content: 'fix the bug' }];
  for (const [i, uses] of turns.entries()) {
    history.push({ role: 'assistant', content: uses }, { role: 'user', content: uses.map((u) => result(u.id, u.name === 'Bash')) });
    const body = JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 16, messages: history });
    const r = await rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token, { 'x-claude-code-session-id': 'sess-tools' }), body });
    assert.equal(r.status, 200, `turn ${i}`);
  }
  await gw.flushUsage();
  await ext.idle();
  const rep = await report();
  const agent = rep.toolCalls.byTool.find((t) => t.tool === 'agent')!;
  // Each call once, though every request repeats the whole history.
  assert.deepEqual(agent.names, [{ name: 'Read', calls: 2 }, { name: 'Bash', calls: 1 }, { name: 'Grep', calls: 1 }]);
  assert.equal(agent.calls, 4);
  assert.equal(agent.results, 4);
  assert.equal(agent.errors, 1);
  assert.equal(agent.errorRate, 0.25);
  const sess = rep.toolCalls.bySession.find((t) => t.session === 'sess-tools')!;
  assert.equal(sess.calls, 4);
  assert.ok(!JSON.stringify(rep).includes(MARKER));
  for (const f of await filesUnder(dir.path)) assert.ok(!(await readFile(f)).includes(MARKER), `${f} holds the marker`);
});

test('ledger analyses: latency percentiles with retries apart, heat map, daily curve per model, tool-use turns', () => {
  const t0 = Date.UTC(2026, 2, 9, 10, 0, 0); // a Monday, 10:00 UTC (11:00 at +60)
  const rec = (o: Partial<RequestRecord> & { id: string }): RequestRecord => ({ ...makeRow(o), counted: true, costUsd: o.costUsd ?? 0.01, attempts: [], ...o } as RequestRecord);
  const rows: RequestRecord[] = [];
  for (let i = 1; i <= 100; i++) rows.push(rec({ id: `a${i}`, tsStart: t0 + i * 1000, servedModel: 'claude-sonnet-4-5', provider: 'anthropic', ttfbMs: i * 10, totalMs: i * 100, stopReason: i <= 4 ? 'tool_use' : 'end_turn', endpoint: 'messages' }));
  rows.push(rec({ id: 'r1', tsStart: t0 + 200_000, servedModel: 'claude-sonnet-4-5', provider: 'anthropic', ttfbMs: 50, totalMs: 90_000, attemptsMade: 3, endpoint: 'messages' }));
  rows.push(rec({ id: 'h1', tsStart: t0 + DAY_MS, servedModel: 'claude-haiku-4-5', provider: 'anthropic', ttfbMs: 5, totalMs: 50, costUsd: 0.5, endpoint: 'messages' }));
  const ins = ledgerInsights(rows, () => 60);
  const sonnet = ins.latency.find((l) => l.model === 'claude-sonnet-4-5')!;
  assert.deepEqual(sonnet.total, { n: 100, p50: 5000, p90: 9000, p99: 9900 });
  assert.deepEqual(sonnet.ttfb, { n: 100, p50: 500, p90: 900, p99: 990 });
  assert.equal(sonnet.retried.n, 1, 'the retried request is counted apart');
  assert.equal(sonnet.retried.total.p50, 90_000);
  assert.equal(sonnet.histogram.reduce((a, b) => a + b.count, 0), 100);
  assert.deepEqual(sonnet.histogram.slice(0, 3).map((b) => b.count), [2, 3, 5]);
  // Monday 11:00 local: 101 sonnet requests at $0.01; Tuesday 11:00: the haiku one.
  assert.ok(Math.abs(ins.heat[1]![11]! - 1.01) < 1e-9);
  assert.equal(ins.heat[2]![11], 0.5);
  assert.deepEqual(ins.daily.map((d) => [d.day, d.model]), [['2026-03-09', 'claude-sonnet-4-5'], ['2026-03-10', 'claude-haiku-4-5']]);
  const tools = ins.tools[0]!;
  assert.equal(tools.toolUseTurns, 4);
  assert.equal(tools.longestLoop, 4);
});

const DAY_MS = 86_400_000;
