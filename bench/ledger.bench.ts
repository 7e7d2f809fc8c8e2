// Ledger benchmark: fills a ledger through the real record() batching path, then times the
// queries the window and the CLI make. Exits 1 when a query's median exceeds 50 ms.
// Usage: node --import tsx bench/ledger.bench.ts [--rows 1000000] [--json out.json]
// (bench/ledger-engines.bench.ts runs this same file against an older checkout too.)
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openLedger } from '../proxy/ledger/ledger.js';
import { localDay } from '../proxy/ledger/dates.js';
import { createRng, makeRow } from '../proxy/ledger/fixtures/rows.js';

const LIMIT_MS = 50;
const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const ROWS = rowsArg === -1 ? 1_000_000 : Number(args[rowsArg + 1]);
if (!Number.isInteger(ROWS) || ROWS < 1) {
  console.error('--rows must be a positive integer');
  process.exit(2);
}
const jsonArg = args.indexOf('--json');
const JSON_OUT = jsonArg === -1 ? null : args[jsonArg + 1]!;
const SESSIONS = 2_000;
const DAYS = 60;
const MODELS = ['claude-opus-4-8', 'claude-sonnet-4-6', 'claude-haiku-4-5-20251001', 'claude-opus-4-6', 'claude-sonnet-4-5-20250929', 'unpriced-model'];
const TOOLS = ['claude-code', 'cline', 'cursor', 'continue', 'scripts'];
const DAY_MS = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), 'sluice-ledger-bench-'));
const path = join(dir, 'ledger.sqlite');
const tz = (ts: number) => -new Date(ts).getTimezoneOffset();

try {
  const end = Date.UTC(2026, 10, 30);
  const start = end - DAYS * DAY_MS;
  const rng = createRng(42);
  // Rows arrive in time order, as the gateway records them. Sessions run one after another with
  // four overlapping at any time (parallel agents, editors); each uses one tool.
  const span = DAYS * DAY_MS;
  const perSession = ROWS / SESSIONS;
  const sessionId = (s: number) => `00000000-0000-4000-8000-${s.toString().padStart(12, '0')}`;

  const ledger = openLedger(path, { tzOffsetMinutes: tz });
  const t0 = performance.now();
  for (let i = 0; i < ROWS; i++) {
    const ts = start + Math.floor((i / ROWS) * span);
    const s = Math.min(SESSIONS - 1, Math.floor(i / perSession) + Math.floor(rng() * 4));
    const model = MODELS[Math.floor(rng() * MODELS.length)]!;
    const failed = rng() < 0.03;
    ledger.record(makeRow({
      id: `sluice_${i.toString(16).padStart(24, '0')}`,
      tsStart: ts,
      tsEnd: ts + 2_000,
      sessionId: rng() < 0.02 ? null : sessionId(s),
      tool: TOOLS[s % TOOLS.length]!,
      requestedModel: model,
      servedModel: failed ? null : model,
      status: failed ? 529 : 200,
      errorType: failed ? 'overloaded_error' : null,
      messageId: failed ? null : `msg_${i}`,
      inputTokens: failed ? 0 : Math.floor(rng() * 5_000),
      outputTokens: failed ? 0 : Math.floor(rng() * 3_000),
      cacheWrite5mTokens: failed ? 0 : Math.floor(rng() * 20_000),
      cacheReadTokens: failed ? 0 : Math.floor(rng() * 150_000),
      costPico: failed ? 0 : model === 'unpriced-model' ? null : Math.floor(rng() * 80_000_000_000),
      billed: !failed,
    }));
  }
  ledger.flush();
  const insertSec = (performance.now() - t0) / 1000;
  const stats = ledger.stats();
  if (stats.writeErrors > 0 || stats.inserted !== ROWS) {
    console.error(`write problems: ${JSON.stringify(stats)}`);
    process.exit(1);
  }

  const median = (fn: () => unknown): number => {
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const a = performance.now();
      fn();
      times.push(performance.now() - a);
    }
    times.sort((x, y) => x - y);
    return times[2]!;
  };
  const lastDay = localDay(end - 1, tz);
  const firstOf30 = localDay(end - 30 * DAY_MS, tz);
  const oneSession = sessionId(1234);
  const detail = ledger.getSession(oneSession);
  const queries: [string, () => unknown, string][] = [
    ['getSession (one session, all requests)', () => ledger.getSession(oneSession), `${detail?.requests.length ?? 0} requests`],
    ['listSessions first page by cost', () => ledger.listSessions({ sort: 'cost', order: 'desc', limit: 50 }), '50 of 2,000'],
    ['report by day, 30 days', () => ledger.report({ by: 'day', since: firstOf30, until: lastDay }), '30 rows'],
    ['report by model', () => ledger.report({ by: 'model' }), `${MODELS.length} rows`],
    ['totals()', () => ledger.totals(), '1 row'],
  ];
  const results = queries.map(([name, fn, note]) => ({ name, ms: median(fn), note }));
  ledger.close();
  const fileMB = statSync(path).size / 1e6;
  if (JSON_OUT !== null) {
    writeFileSync(JSON_OUT, JSON.stringify({ node: process.version, rows: ROWS, insertSec, rowsPerSec: ROWS / insertSec, fileMB, results }, null, 1));
  }

  console.log(`\nLedger: ${ROWS.toLocaleString('en-US')} rows, ${SESSIONS} sessions, ${DAYS} days, ${MODELS.length} models, ${TOOLS.length} tools; file ${fileMB.toFixed(0)} MB`);
  console.log(`Insert through record() (batchMs 100, batchMax 500): ${insertSec.toFixed(1)} s, ${Math.round(ROWS / insertSec).toLocaleString('en-US')} rows/s\n`);
  console.log('| query | median of 5 (ms) | rows | within 50 ms |');
  console.log('|---|---:|---|---|');
  for (const r of results) console.log(`| ${r.name} | ${r.ms.toFixed(2)} | ${r.note} | ${r.ms <= LIMIT_MS ? 'yes' : '**no**'} |`);
  const slow = results.filter((r) => r.ms > LIMIT_MS);
  if (slow.length) {
    console.error(`\n${slow.length} quer${slow.length === 1 ? 'y' : 'ies'} over ${LIMIT_MS} ms`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
