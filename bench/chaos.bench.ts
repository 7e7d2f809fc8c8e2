// Chaos benchmark: the real `sluice serve` child in front of an upstream that injects 529s and
// rate-limits one of two keys, against a no-fault run in the same process. Measures the
// client-visible success rate, billing (ledger rows read after the gateway stopped) and the
// added p99. Imports bench/lib, undici, the SQLite adapter and the atomic file helpers; never the
// gateway's code (it runs as a child process, from the working tree's sources through tsx).
// Usage: node --import tsx bench/chaos.bench.ts [--requests N] [--concurrency C] [--write-results]
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../proxy/ledger/sqlite.js';
import { Pool } from 'undici';
import { readFileIfExists, writeFileAtomic } from '../proxy/store/atomic-file.js';
import { createMessageIds, messageJsonWithId } from './lib/bench-upstream.js';
import { messagesBody } from './lib/bodies.js';
import { createChildSet, startGatewayChild, type ChildSet } from './lib/processes.js';
import { replaceSection } from './lib/report.js';
import { summarize } from './lib/stats.js';
import { createRng as seeded } from '../test/prng.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'proxy', 'cli.ts');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
// Obviously fake keys: the chaos upstream only tells them apart.
const KEYS = ['sk-ant-api03-FAKE-chaos-1', 'sk-ant-api03-FAKE-chaos-2'];
const FAULT_RATIO = 0.2;
const RESET_RATIO = 0.05;
const RETRY_AFTER_S = 30;
const SEED = 20261121;

const log = (msg: string) => process.stderr.write(`[chaos] ${msg}\n`);


interface Mode {
  faultRatio: number;
  /** Share of requests whose connection is reset before any response byte. */
  resetRatio: number;
  limitedKey: string | null;
}

interface ChaosUpstream {
  url: string;
  mode: Mode;
  /** Responses sent by status since the last reset (0: connection reset before headers). */
  counts: Map<number, number>;
  close(): Promise<void>;
}

function errorJson(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_chaos_000000' });
}

/** A minimal Anthropic-shaped upstream with switchable faults (in this process: no proxy/ code). */
async function startChaosUpstream(random: () => number): Promise<ChaosUpstream> {
  const nextId = createMessageIds();
  const up: ChaosUpstream = { url: '', mode: { faultRatio: 0, resetRatio: 0, limitedKey: null }, counts: new Map(), close: async () => {} };
  const reply = (res: import('node:http').ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
    up.counts.set(status, (up.counts.get(status) ?? 0) + 1);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'request-id': 'req_chaos_000000', ...headers });
    res.end(body);
  };
  const server: Server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const key = req.headers['x-api-key'];
      if (up.mode.limitedKey !== null && key === up.mode.limitedKey) {
        reply(res, 429, errorJson('rate_limit_error', 'This request would exceed the rate limit for your organization'), { 'retry-after': String(RETRY_AFTER_S) });
      } else {
        const r = random();
        if (r < up.mode.faultRatio) {
          reply(res, 529, errorJson('overloaded_error', 'Overloaded'));
          return;
        }
        if (r < up.mode.faultRatio + up.mode.resetRatio) {
          up.counts.set(0, (up.counts.get(0) ?? 0) + 1);
          res.socket?.destroy();
          return;
        }
        reply(res, 200, messageJsonWithId(nextId()));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  up.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  up.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return up;
}

/** `node --import tsx proxy/cli.ts ...args` to completion; its stdout. */
function runCli(children: ChildSet, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.track(proc);
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`sluice ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

interface Variant {
  name: string;
  faults: boolean;
  /** Also reset RESET_RATIO of the connections before headers. */
  resets?: boolean;
  /** The `resilience` settings section written before the gateway starts. */
  resilience: Record<string, unknown>;
}

interface LoadStats {
  requests: number;
  ok: number;
  statuses: Map<number, number>;
  latenciesMs: number[];
  /** Responses by their x-sluice-attempts (1 when absent). */
  attempts: Map<number, number>;
  firstFailure: string | null;
  seconds: number;
}

async function load(pool: Pool, token: string, body: Buffer, total: number, concurrency: number): Promise<LoadStats> {
  const s: LoadStats = { requests: 0, ok: 0, statuses: new Map(), latenciesMs: [], attempts: new Map(), firstFailure: null, seconds: 0 };
  const headers = { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  let issued = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (issued < total) {
      issued++;
      const start = performance.now();
      let status = 0;
      try {
        const res = await pool.request({ path: '/v1/messages', method: 'POST', headers, body });
        const text = await res.body.text();
        status = res.statusCode;
        const n = Number(res.headers['x-sluice-attempts'] ?? 1);
        s.attempts.set(n, (s.attempts.get(n) ?? 0) + 1);
        if (status === 200) {
          s.ok++;
          s.latenciesMs.push(performance.now() - start);
        } else {
          s.firstFailure ??= `HTTP ${status} ${text.slice(0, 160)}`;
        }
      } catch (err) {
        s.firstFailure ??= (err as Error).message;
      }
      s.requests++;
      s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  s.seconds = (performance.now() - t0) / 1000;
  return s;
}

interface LedgerCheck {
  rows: number;
  billedRows: number;
  distinctBilledMessages: number;
  attemptRows: number;
}

/** Reads the ledger file of a stopped gateway (every queued row was flushed on SIGTERM). */
function readLedger(dataDir: string): LedgerCheck {
  const db = openDatabase(join(dataDir, 'ledger.sqlite'), { readonly: true });
  try {
    const one = (sql: string) => Number((db.prepare(sql).get() as { n: number | bigint }).n);
    return {
      rows: one('SELECT count(*) AS n FROM requests'),
      billedRows: one('SELECT count(*) AS n FROM requests WHERE billed = 1'),
      distinctBilledMessages: one('SELECT count(DISTINCT message_id) AS n FROM requests WHERE billed = 1'),
      attemptRows: one('SELECT count(*) AS n FROM attempts'),
    };
  } finally {
    db.close();
  }
}

interface VariantResult {
  variant: Variant;
  warmupOk: number;
  stats: LoadStats;
  upstream: Map<number, number>;
  ledger: LedgerCheck;
}

async function runVariant(children: ChildSet, up: ChaosUpstream, tmp: string, v: Variant, total: number, concurrency: number): Promise<VariantResult> {
  const dataDir = join(tmp, v.name);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmp,
    SLUICE_ANTHROPIC_BASE_URL: up.url,
    SLUICE_ANTHROPIC_API_KEYS: KEYS.join(','),
    SLUICE_LOG_LEVEL: 'warn',
  };
  const token = (await runCli(children, ['token', 'create', 'chaos', '--data-dir', dataDir], env)).trim().split('\n').at(-1)!.trim();
  // After token create, which rewrites settings.json through the schema.
  const file = join(dataDir, 'settings.json');
  const settings = JSON.parse((await readFileIfExists(file)) ?? '{"version":1}') as Record<string, unknown>;
  settings.resilience = v.resilience;
  await writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`, { backup: false });
  const gw = await startGatewayChild(children, { bin: CLI, dataDir, env, nodeArgs: ['--import', 'tsx'] });
  const pool = new Pool(gw.url, { connections: 64, keepAliveTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const body = messagesBody(2 * 1024, false);
  try {
    up.mode = { faultRatio: 0, resetRatio: 0, limitedKey: null };
    const warm = await load(pool, token, body, 100, concurrency);
    up.counts = new Map();
    up.mode = v.faults ? { faultRatio: FAULT_RATIO, resetRatio: v.resets ? RESET_RATIO : 0, limitedKey: KEYS[0]! } : { faultRatio: 0, resetRatio: 0, limitedKey: null };
    const stats = await load(pool, token, body, total, concurrency);
    const upstream = new Map(up.counts);
    up.mode = { faultRatio: 0, resetRatio: 0, limitedKey: null };
    return { variant: v, warmupOk: warm.ok, stats, upstream, ledger: { rows: 0, billedRows: 0, distinctBilledMessages: 0, attemptRows: 0 } };
  } finally {
    await pool.close();
    await gw.stop(10_000);
  }
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '—');
const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(2)} %`;
const counts = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${k || 'error'}×${n}`).join(', ');

function render(results: VariantResult[]): string {
  const base = results.find((r) => !r.variant.faults);
  const baseP99 = base ? summarize(base.stats.latenciesMs).p99 : Number.NaN;
  const rows = results.map((r) => {
    const sum = summarize(r.stats.latenciesMs);
    const okTotal = r.stats.ok + r.warmupOk;
    const noDouble = r.ledger.billedRows === okTotal && r.ledger.distinctBilledMessages === r.ledger.billedRows;
    // Targets: 99.9 % at 20 % 529; with resets too, 99.5 % and at most 1.5 upstream calls per request.
    const upstreamCalls = [...r.upstream.values()].reduce((a, b) => a + b, 0);
    const goal = r.variant.resets ? 0.995 : 0.999;
    const target = r.variant.faults ? (r.stats.ok / r.stats.requests >= goal && (!r.variant.resets || upstreamCalls / r.stats.requests <= 1.5) ? 'pass' : '**miss**') : '—';
    // The ledger's attempts equal the upstream's calls (warm-up: one call each).
    const attemptsExact = r.ledger.attemptRows === upstreamCalls + r.warmupOk;
    return `| ${r.variant.name} | ${r.stats.requests} | ${pct(r.stats.ok, r.stats.requests)} (${target}) | ${counts(r.stats.statuses)} | ${counts(r.upstream)} (${(upstreamCalls / r.stats.requests).toFixed(2)}/req) | ${r.ledger.attemptRows} (${attemptsExact ? 'exact' : '**differs**'}) | ${r.ledger.billedRows} / ${okTotal} (${noDouble ? 'pass' : '**fail**'}) | ${ms(sum.p50)} | ${ms(sum.p99)} | ${r.variant.faults ? `${sum.p99 - baseP99 >= 0 ? '+' : '−'}${Math.abs(sum.p99 - baseP99).toFixed(1)} ms` : '—'} |`;
  });
  return [
    `| Run | Requests | Client success (target ≥ 99.9 %; ≥ 99.5 % with resets) | Client statuses | Upstream answers, 0 = reset (calls per request) | Ledger attempts | Billed rows / successful responses | p50 | p99 | Added p99 vs no-fault |`,
    '|---|---:|---|---|---|---|---|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

function parseArgs(argv: string[]): { requests: number; concurrency: number; write: boolean } {
  const o = { requests: 1000, concurrency: 20, write: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--write-results') o.write = true;
    else if (a === '--requests' || a === '--concurrency') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer`);
      if (a === '--requests') o.requests = n;
      else o.concurrency = n;
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const children = createChildSet();
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-chaos-bench-'));
  const cleanup = () => {
    children.killAll('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { cleanup(); process.exit(130); });

  // The defaults (5 attempts, retry budget 0.3, breaker opening at >= 5 failures that are also
  // >= 50 % of the window's calls), with a short base delay so the run stays quick; plus a run
  // with the old count-only breaker settings, to show what a failure-share breaker buys.
  const defaults = { retry: { baseDelayMs: 50 } };
  const variants: Variant[] = [
    { name: 'no-fault', faults: false, resilience: defaults },
    { name: 'chaos', faults: true, resilience: defaults },
    { name: 'chaos, 4 attempts, budget 0.2', faults: true, resilience: { retry: { ...defaults.retry, maxAttempts: 4, budgetRatio: 0.2 } } },
    // Choosing the retry budget: the same chaos plus 5 % connection resets before headers.
    { name: 'chaos + resets, budget 0.3', faults: true, resets: true, resilience: { retry: { ...defaults.retry, budgetRatio: 0.3 } } },
    { name: 'chaos + resets, budget 0.5 (default)', faults: true, resets: true, resilience: defaults },
    { name: 'chaos + resets, budget 1.0', faults: true, resets: true, resilience: { retry: { ...defaults.retry, budgetRatio: 1 } } },
  ];
  const cpu = cpus();
  const machine = `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${process.platform} ${process.arch}, Node ${process.version}`;
  log(machine);
  const up = await startChaosUpstream(seeded(SEED));
  const results: VariantResult[] = [];
  try {
    for (const v of variants) {
      log(`${v.name}: ${args.requests} requests at concurrency ${args.concurrency}`);
      const r = await runVariant(children, up, tmp, v, args.requests, args.concurrency);
      r.ledger = readLedger(join(tmp, v.name));
      log(`  ok ${r.stats.ok}/${r.stats.requests}, statuses ${counts(r.stats.statuses)}, upstream ${counts(r.upstream)}, billed ${r.ledger.billedRows}${r.stats.firstFailure ? `, first failure: ${r.stats.firstFailure}` : ''}`);
      results.push(r);
    }
  } finally {
    await up.close();
  }
  const table = render(results);
  const command = `node --import tsx bench/chaos.bench.ts${argv.length ? ` ${argv.join(' ')}` : ''}`;
  const notes = results.filter((r) => r.stats.firstFailure).map((r) => `- ${r.variant.name}: first client-visible failure: \`${r.stats.firstFailure!.replace(/`/g, "'")}\``);
  const section = [
    '## Chaos',
    '',
    `Recorded ${new Date().toISOString().slice(0, 10)} on ${machine} with \`${command}\`.`,
    `${args.requests} requests (2 KB, non-streaming) at concurrency ${args.concurrency} through a \`sluice serve\` child (working-tree sources via tsx), after 100 fault-free warm-up requests.`,
    `Chaos: the upstream answers ${FAULT_RATIO * 100} % of requests with 529 (seeded random) and every request carrying the first of two keys with 429 \`retry-after: ${RETRY_AFTER_S}\`.`,
    'Settings: the defaults (`retry.maxAttempts: 5`, retry budget 0.5, one breaker per provider and model opening at >= 5 failed requests that are also >= 50 % of its requests in 30 s) with `retry.baseDelayMs: 50`, plus a run with 4 attempts and a 0.2 budget: at a 20 % fault rate, 4 attempts leave 0.2^4 = 0.16 % failing even with unlimited budget.',
    `"Chaos + resets" also resets ${RESET_RATIO * 100} % of the connections before any response byte, at three retry budgets (the ratio caps upstream calls at 1 + ratio per request in an outage); the target there is >= 99.5 % with <= 1.5 upstream calls per request.`,
    '"Billed rows" are read from the ledger file after the gateway stopped, and count the warm-up too; they must equal the successful responses, each with its own upstream message id.',
    '',
    table,
    '',
    ...notes,
  ].join('\n');
  process.stdout.write(`\n${section}\n`);
  if (args.write) {
    await writeFileAtomic(RESULTS, replaceSection(await readFileIfExists(RESULTS), 'Chaos', `${section}\n`), { backup: false, mode: 0o644 });
    log(`wrote the Chaos section of ${RESULTS}`);
  }
  return results.every((r) => r.ledger.billedRows === r.stats.ok + r.warmupOk) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
