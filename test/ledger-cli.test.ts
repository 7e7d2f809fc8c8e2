// The ledger from the outside: `sluice stats`, `sluice sessions show` and `sluice import` on a
// real serve process, and a kill -9 in the middle of a burst of requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDb, pragma, row, rows, value, values, type Db } from '../proxy/ledger/fixtures/sql.js';
import { runSluice, startSluiceServe } from './cli-process.js';
import { startMockUpstream, messageStreamEvents, streamEvents, sendJson, messageJson, type MockUpstream } from './mock-upstream.js';
import { authHeaders, rawRequest, tempDir } from './helpers.js';

let mock: MockUpstream;
before(async () => { mock = await startMockUpstream(); });
after(() => mock.close());

const M = 'claude-haiku-4-5-20251001';
const env = (dir: string) => ({ SLUICE_DATA_DIR: dir, SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKECLIKEY' });
const sid = (i: number) => `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`;

test('stats --by session --json, --by model/day/tool, sessions show', { timeout: 60_000 }, async () => {
  const dir = await tempDir();
  try {
    const token = (await runSluice(['token', 'create', 'cli-stats'], env(dir.path))).stdout.trim().split('\n').at(-1)!;
    mock.setBehavior(async (req, res) => {
      const b = JSON.parse(req.body.toString());
      // Haiku 4.5: $1 in, $1.25 5m write, $0.10 read, $5 out per million.
      if (b.stream) await streamEvents(req, res, messageStreamEvents({ model: M, outputTokens: 100 }));
      else sendJson(req, res, 200, messageJson({ model: M, outputTokens: 100 }));
    });
    const serve = await startSluiceServe(env(dir.path));
    for (let i = 0; i < 6; i++) {
      const r = await rawRequest(`${serve.url}/v1/messages`, { method: 'POST', headers: authHeaders(token, { 'x-claude-code-session-id': sid(i % 2) }), body: JSON.stringify({ model: 'claude-haiku-4-5', stream: i % 3 === 0, max_tokens: 5, messages: [] }) });
      assert.equal(r.status, 200);
    }
    assert.equal(await serve.stop(), 0);

    const js = await runSluice(['stats', '--by', 'session', '--json'], env(dir.path));
    assert.equal(js.code, 0, js.stderr);
    const out = JSON.parse(js.stdout) as { rows: Record<string, unknown>[]; totals: { requests: number; costUsd: number } };
    assert.equal(out.rows.length, 2);
    const perReq = (12 * 1 + 100 * 1.25 + 2000 * 0.1 + 100 * 5) / 1e6;
    for (const row of out.rows) {
      assert.ok([sid(0), sid(1)].includes(row.sessionId as string));
      assert.equal(row.requests, 3);
      assert.equal(row.inputTokens, 36);
      assert.equal(row.outputTokens, 300);
      assert.equal(row.cacheWriteTokens, 300);
      assert.equal(row.cacheReadTokens, 6000);
      assert.ok(Math.abs((row.costUsd as number) - 3 * perReq) < 1e-12, `cost ${row.costUsd} vs ${3 * perReq}`);
      assert.equal(row.tool, 'cli-stats');
    }
    assert.equal(out.totals.requests, 6);

    const byModel = await runSluice(['stats', '--by', 'model'], env(dir.path));
    assert.match(byModel.stdout, new RegExp(`${M}\\s+6\\s+0\\s+72\\s+600\\s+600\\s+12K\\s+\\$0\\.0050`));
    const byTool = await runSluice(['stats', '--by', 'tool'], env(dir.path));
    assert.match(byTool.stdout, /cli-stats\s+6/);
    const byDay = await runSluice(['stats', '--by', 'day', '--since', '2000-01-01'], env(dir.path));
    assert.match(byDay.stdout, new RegExp(`${new Date().getFullYear()}-\\d\\d-\\d\\d\\s+6`));

    const show = await runSluice(['sessions', 'show', sid(1)], env(dir.path));
    assert.equal(show.code, 0);
    assert.equal(show.stdout.split('\n').filter((l) => l.includes(M)).length, 3);
    const missing = await runSluice(['sessions', 'show', 'nope'], env(dir.path));
    assert.equal(missing.code, 1);
    const bad = await runSluice(['stats', '--by', 'planet'], env(dir.path));
    assert.equal(bad.code, 2);
  } finally {
    await dir.cleanup();
  }
});

test('import claude-code prices transcript sessions and marks them imported', { timeout: 30_000 }, async () => {
  const dir = await tempDir();
  try {
    const projects = join(dir.path, 'claude', 'projects', '-home-me-repo');
    await mkdir(projects, { recursive: true });
    const session = 'bbbbbbbb-1111-4222-8333-444444444444';
    const line = (rid: string, mid: string, out: number) => JSON.stringify({
      type: 'assistant', sessionId: session, cwd: '/home/me/repo', timestamp: '2026-11-20T10:00:00.000Z', requestId: rid,
      message: { id: mid, type: 'message', role: 'assistant', model: 'claude-opus-4-5-20251101', content: [{ type: 'text', text: 'x' }],
        usage: { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000, output_tokens: out } },
    });
    // One response written twice (streaming), plus a second response.
    await writeFile(join(projects, `${session}.jsonl`), [line('req_1', 'msg_1', 5), line('req_1', 'msg_1', 50), line('req_2', 'msg_2', 20), '{not json'].join('\n') + '\n');
    const r = await runSluice(['import', 'claude-code', '--dir', join(dir.path, 'claude', 'projects')], env(dir.path));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 responses, 2 new/);
    assert.match(r.stdout, /1 malformed/);
    const again = await runSluice(['import', 'claude-code'], { ...env(dir.path), CLAUDE_CONFIG_DIR: join(dir.path, 'claude') });
    assert.match(again.stdout, /0 new/);
    const js = JSON.parse((await runSluice(['stats', '--by', 'session', '--json'], env(dir.path))).stdout);
    const row = js.rows.find((x: { sessionId: string }) => x.sessionId === session);
    assert.equal(row.imported, true);
    assert.equal(row.viaGateway, false);
    assert.equal(row.outputTokens, 70, 'the final line of a streamed response counts once');
    // Opus 4.5: $5 in, $0.50 read, $25 out per million.
    assert.ok(Math.abs(row.costUsd - (20 * 5 + 2000 * 0.5 + 70 * 25) / 1e6) < 1e-12);
  } finally {
    await dir.cleanup();
  }
});

test('kill -9 during a burst: the database reopens consistent and stats work', { timeout: 60_000 }, async () => {
  const dir = await tempDir();
  try {
    const token = (await runSluice(['token', 'create', 'burst'], env(dir.path))).stdout.trim().split('\n').at(-1)!;
    mock.setBehavior((req, res) => sendJson(req, res, 200, messageJson({ model: M })));
    const serve = await startSluiceServe(env(dir.path));
    const completedAt: number[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop && i < 400; i++) {
        try {
          const r = await rawRequest(`${serve.url}/v1/messages`, { method: 'POST', headers: authHeaders(token, { 'x-claude-code-session-id': sid(w) }), body: '{"model":"claude-haiku-4-5","max_tokens":1,"messages":[]}' });
          if (r.status === 200) completedAt.push(Date.now());
        } catch {
          return; // the gateway died under us: expected
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    while (completedAt.length < 300) await new Promise((r) => setTimeout(r, 5));
    const killedAt = Date.now();
    serve.proc.kill('SIGKILL');
    await serve.exited;
    stop = true;
    await Promise.all(workers);

    const db = openDb(join(dir.path, 'ledger.sqlite'));
    assert.equal(pragma(db, 'integrity_check'), 'ok');
    const rows = (row(db, 'SELECT count(*) AS n FROM requests') as { n: number }).n;
    const sums = row(db, 'SELECT (SELECT coalesce(sum(requests),0) FROM sessions) AS s, (SELECT count(*) FROM requests WHERE session_id IS NOT NULL AND counted = 1) AS r') as { s: number; r: number };
    db.close();
    assert.equal(sums.s, sums.r, 'session rollups agree with the rows');
    // Rows of responses finished well before the kill are on disk (the batch window is 100 ms).
    const settled = completedAt.filter((t) => t < killedAt - 500).length;
    assert.ok(rows >= settled, `${rows} rows on disk, ${settled} responses finished >500 ms before the kill`);

    const again = await startSluiceServe(env(dir.path));
    const ok = await rawRequest(`${again.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: '{"model":"claude-haiku-4-5","max_tokens":1,"messages":[]}' });
    assert.equal(ok.status, 200);
    assert.equal(await again.stop(), 0);
    const st = await runSluice(['stats', '--json'], env(dir.path));
    assert.equal(st.code, 0, st.stderr);
    assert.equal(JSON.parse(st.stdout).totals.requests, rows + 1);
  } finally {
    await dir.cleanup();
  }
});
