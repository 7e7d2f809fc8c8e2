// `sluice report daily|weekly|monthly|session|blocks`: totals equal `sluice stats` to the cent
// on a seeded 100k-row, 60-day ledger; filters equal the ledger's own grouped queries; 5-hour
// blocks on a hand-made traffic pattern match a hand-computed table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../proxy/cli-main.js';
import { openLedger } from '../proxy/ledger/ledger.js';
import { createRng, makeRow } from '../proxy/ledger/fixtures/rows.js';
import type { LedgerRow } from '../proxy/ledger/types.js';
import { formatUsd } from '../proxy/format.js';
import { buildReport, openReadOnly, REPORT_KINDS, type BlockRow, type ReportResult } from '../proxy/cli-report.js';
import { tempDir } from './helpers.js';

const DAY = 86_400_000;
const H = 3_600_000;
const ROWS = 100_000;
const MODELS = ['claude-opus-4-6', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'unpriced-model'];
const TOOLS = ['claude-code', 'cline', 'scripts'];
let home: Awaited<ReturnType<typeof tempDir>>;
let dataDir: string;

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { stdout: (s) => { out += s; }, stderr: (s) => { out += s; }, readStdin: async () => '', env: { SLUICE_DATA_DIR: dataDir, ...env }, platform: 'linux', home: home.path };
  const code = await runCli(args, io);
  return { code, out };
}

before(async () => {
  home = await tempDir('sluice-report-');
  dataDir = join(home.path, 'data');
  const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
  const rng = createRng(19);
  const start = Date.UTC(2026, 6, 1);
  const batch: LedgerRow[] = [];
  for (let i = 0; i < ROWS; i++) {
    const ts = start + Math.floor((i / ROWS) * 60 * DAY);
    const model = MODELS[Math.floor(rng() * MODELS.length)]!;
    const failed = rng() < 0.03;
    const session = Math.floor(i / 250);
    batch.push(makeRow({
      id: `r${i}`, tsStart: ts, tsEnd: ts + 1000, sessionId: rng() < 0.02 ? null : `s-${session}`, tool: TOOLS[session % TOOLS.length]!,
      requestedModel: model, servedModel: failed ? null : model, status: failed ? 529 : 200, errorType: failed ? 'overloaded_error' : null,
      inputTokens: failed ? 0 : Math.floor(rng() * 5000), outputTokens: failed ? 0 : Math.floor(rng() * 3000),
      cacheWrite5mTokens: failed ? 0 : Math.floor(rng() * 20_000), cacheReadTokens: failed ? 0 : Math.floor(rng() * 150_000),
      costPico: failed ? 0 : model === 'unpriced-model' ? null : Math.floor(rng() * 80_000_000_000), billed: !failed,
      source: i % 10 === 0 ? 'import' : 'gateway', project: i % 10 === 0 ? `/home/dev/proj-${session % 4}` : null,
    }));
    if (batch.length === 5000) ledger.write(batch.splice(0));
  }
  ledger.write(batch.splice(0));
  ledger.close();
});
after(async () => { await home.cleanup(); });

const money = (usd: number | null) => formatUsd(usd);

test('every report\'s totals equal `sluice stats` to the cent, and its tokens exactly', { timeout: 120_000 }, async () => {
  const stats = JSON.parse((await cli(['stats', '--json'])).out) as { totals: { requests: number; costUsd: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number; unpricedRequests: number } };
  assert.equal(stats.totals.requests, ROWS);
  for (const kind of REPORT_KINDS) {
    const r = await cli(['report', kind, '--json']);
    assert.equal(r.code, 0, r.out);
    const rep = JSON.parse(r.out) as ReportResult;
    assert.equal(rep.schema, 'sluice.report/1');
    assert.equal(rep.report, kind);
    const t = rep.totals;
    assert.equal(money(t.costUsd), money(stats.totals.costUsd), `${kind} cost`);
    assert.deepEqual([t.requests, t.inputTokens, t.outputTokens, t.cacheReadTokens, t.cacheWriteTokens, t.unpricedRequests],
      [stats.totals.requests, stats.totals.inputTokens, stats.totals.outputTokens, stats.totals.cacheReadTokens, stats.totals.cacheWriteTokens, stats.totals.unpricedRequests], kind);
  }
  const daily = JSON.parse((await cli(['report', 'daily', '--json'])).out) as ReportResult;
  assert.equal(daily.rows.length, 60);
  const monthly = JSON.parse((await cli(['report', 'monthly', '--json'])).out) as ReportResult;
  assert.deepEqual(monthly.rows.map((r) => (r as { key: string }).key), ['2026-07', '2026-08']);
  const weekly = JSON.parse((await cli(['report', 'weekly', '--json'])).out) as ReportResult;
  for (const w of weekly.rows as { key: string }[]) assert.equal(new Date(`${w.key}T12:00:00Z`).getUTCDay(), 1, `${w.key} is a Monday`);
});

test('ranges and filters equal the ledger\'s own queries; a breakdown adds up to its row', { timeout: 60_000 }, async () => {
  const ro = openReadOnly(dataDir)!;
  try {
    const since = '2026-07-10';
    const until = '2026-07-24';
    const ranged = buildReport(ro.q, 'daily', { since, until }, Date.now());
    const stats = JSON.parse((await cli(['stats', '--since', since, '--until', until, '--json'])).out) as { totals: { costUsd: number; requests: number } };
    assert.equal(ranged.rows.length, 15);
    assert.equal(money(ranged.totals.costUsd), money(stats.totals.costUsd));
    assert.equal(ranged.totals.requests, stats.totals.requests);

    const byTool = JSON.parse((await cli(['stats', '--by', 'tool', '--json'])).out) as { rows: { key: string; costUsd: number; requests: number }[] };
    for (const tool of TOOLS) {
      const r = buildReport(ro.q, 'monthly', { tool }, Date.now());
      const want = byTool.rows.find((x) => x.key === tool)!;
      assert.equal(money(r.totals.costUsd), money(want.costUsd), tool);
      assert.equal(r.totals.requests, want.requests, tool);
    }
    const byModel = JSON.parse((await cli(['stats', '--by', 'model', '--json'])).out) as { rows: { key: string; costUsd: number | null; requests: number }[] };
    const haiku = buildReport(ro.q, 'weekly', { model: 'haiku' }, Date.now());
    assert.equal(haiku.totals.requests, byModel.rows.filter((x) => x.key.includes('haiku')).reduce((a, x) => a + x.requests, 0));
    const unpriced = buildReport(ro.q, 'daily', { model: 'unpriced' }, Date.now());
    assert.equal(unpriced.totals.costUsd, null, 'a model without prices is "unpriced", never $0');

    const proj = buildReport(ro.q, 'session', { project: 'proj-1' }, Date.now());
    assert.ok(proj.rows.length > 0);
    for (const s of proj.rows as { project: string | null }[]) assert.match(s.project ?? '', /proj-1$/);

    const broken = buildReport(ro.q, 'daily', { breakdown: true }, Date.now());
    for (const row of broken.rows as { requests: number; totalTokens: number; breakdown: { requests: number; totalTokens: number }[] }[]) {
      assert.equal(row.breakdown.reduce((a, b) => a + b.requests, 0), row.requests);
      assert.equal(row.breakdown.reduce((a, b) => a + b.totalTokens, 0), row.totalTokens);
    }
  } finally {
    ro.close();
  }
  // The table fits 100 columns and says so in plain text without a terminal.
  const table = (await cli(['report', 'session', '--breakdown'])).out;
  assert.ok(table.split('\n').every((l) => l.length <= 100), 'fits 100 columns');
  assert.doesNotMatch(table, /\x1b/);
  assert.equal((await cli(['report', 'yearly'])).code, 2);
  assert.equal((await cli(['report', 'daily', '--since', '10/07/2026'])).code, 2);
  assert.equal((await cli(['report', 'daily', '--live'])).code, 2);
});

test('5-hour blocks on a seeded traffic pattern match the hand-computed table', { timeout: 30_000 }, async () => {
  const dir = await tempDir('sluice-blocks-');
  try {
    const ledger = openLedger(join(dir.path, 'ledger.sqlite'));
    const t = (d: number, h: number, m: number) => Date.UTC(2026, 8, d, h, m);
    // [time, output tokens, cost in USD]
    const pattern: [number, number, number][] = [
      [t(1, 10, 15), 100, 1], [t(1, 11, 40), 200, 2], [t(1, 14, 59), 300, 3], // window 10:00-15:00
      [t(1, 15, 0), 400, 4], [t(1, 15, 30), 500, 5], //                           window 15:00-20:00
      //                                                                          gap 20:00-23:00
      [t(1, 23, 10), 600, 6], [t(2, 3, 59), 700, 7], //                           window 23:00-04:00
      [t(2, 4, 0), 800, 8], //                                                    window 04:00-09:00 (touching: no gap)
    ];
    ledger.write(pattern.map(([ts, out, usd], i) => makeRow({ id: `b${i}`, tsStart: ts, tsEnd: ts + 1000, outputTokens: out, costPico: usd * 1e12, requestedModel: 'claude-opus-4-6', servedModel: 'claude-opus-4-6' })));
    ledger.close();
    const ro = openReadOnly(dir.path)!;
    const rep = buildReport(ro.q, 'blocks', {}, t(2, 5, 0));
    ro.close();
    const rows = rep.rows as BlockRow[];
    const iso = (ms: number) => new Date(ms).toISOString().slice(5, 16).replace('T', ' ');
    assert.deepEqual(rows.map((b) => [b.kind, iso(b.start), iso(b.end), b.totalTokens, b.costUsd, b.active, b.estimated]), [
      ['block', '09-01 10:00', '09-01 15:00', 600, 6, false, true],
      ['block', '09-01 15:00', '09-01 20:00', 900, 9, false, true],
      ['gap', '09-01 20:00', '09-01 23:00', 0, 0, false, false],
      ['block', '09-01 23:00', '09-02 04:00', 1300, 13, false, true],
      ['block', '09-02 04:00', '09-02 09:00', 800, 8, true, true],
    ]);
    // Burn rate between a window's first and last request: 600 tokens in 4 h 44 min, $6 per 284 min.
    assert.equal(rows[0]!.burn!.tokensPerMinute, 600 / 284);
    assert.equal(rows[0]!.burn!.usdPerHour, 6 / (284 / 60));
    assert.equal(rows[4]!.burn, null, 'one request: no rate');
    assert.equal(rep.totals.costUsd, 36);
  } finally {
    await dir.cleanup();
  }
});
