// `sluice statusline` on a 1M-row ledger: how long Claude Code waits for its line. Three views:
//   1. in process, gateway down: open the ledger read-only, query, render, close (what the
//      command does after Node has started);
//   2. in process, gateway up: the same facts asked of a real `sluice serve` over loopback;
//   3. the whole command as Claude Code runs it (`node dist/proxy/cli.js statusline`, JSON on
//      stdin), next to a bare `node -e ''` start on the same machine: the ratio is the part
//      that is Sluice's.
// Reported, never enforced (exit 1 only when a line was an error line). Needs `npm run build`.
// Usage: node --import tsx bench/statusline.bench.ts [--rows 1000000] [--runs 300] [--spawns 40]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openLedger } from '../proxy/ledger/ledger.js';
import { createRng, makeRow } from '../proxy/ledger/fixtures/rows.js';
import type { LedgerRow } from '../proxy/ledger/types.js';
import { gatewaySource, gatherFacts, ledgerSource, parseStatusInput, renderStatusLine, runStatusline } from '../proxy/statusline.js';
import { summarize } from './lib/stats.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  const v = i === -1 ? def : Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) { console.error(`${name} must be a positive integer`); process.exit(2); }
  return v;
};
const ROWS = arg('--rows', 1_000_000);
const RUNS = arg('--runs', 300);
const SPAWNS = arg('--spawns', 40);
const SESSIONS = 2_000;
const DAY = 86_400_000;
const MODELS = ['claude-opus-4-6', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'unpriced-model'];
const BIN = fileURLToPath(new URL('../dist/proxy/cli.js', import.meta.url));
const sessionId = (s: number) => `00000000-0000-4000-8000-${s.toString().padStart(12, '0')}`;

const dir = mkdtempSync(join(tmpdir(), 'sluice-statusline-bench-'));
const dataDir = join(dir, 'data');
let failures = 0;
try {
  // 60 days ending now, so "today" and the latest sessions are busy, as on a real machine.
  const end = Date.now();
  const start = end - 60 * DAY;
  const rng = createRng(7);
  const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
  const t0 = performance.now();
  const batch: LedgerRow[] = [];
  const perSession = ROWS / SESSIONS;
  for (let i = 0; i < ROWS; i++) {
    const ts = start + Math.floor((i / ROWS) * (end - start - 60_000));
    const model = MODELS[Math.floor(rng() * MODELS.length)]!;
    const served = rng() < 0.1 ? 'claude-haiku-4-5-20251001' : model;
    batch.push(makeRow({
      id: `sluice_${i.toString(16).padStart(24, '0')}`, tsStart: ts, tsEnd: ts + 2000,
      sessionId: rng() < 0.02 ? null : sessionId(Math.min(SESSIONS - 1, Math.floor(i / perSession) + Math.floor(rng() * 4))),
      requestedModel: model, servedModel: served, target: served !== model ? 'cheap' : null,
      inputTokens: Math.floor(rng() * 5000), outputTokens: Math.floor(rng() * 3000), cacheWrite5mTokens: Math.floor(rng() * 20_000),
      cacheReadTokens: Math.floor(rng() * 150_000), costPico: model === 'unpriced-model' ? null : Math.floor(rng() * 80_000_000_000),
    }));
    if (batch.length === 10_000) ledger.write(batch.splice(0));
  }
  ledger.write(batch.splice(0));
  ledger.close();
  const fillSec = (performance.now() - t0) / 1000;

  // The sessions a statusline asks about: the busiest recent ones, and one the ledger never saw.
  const asked = [sessionId(SESSIONS - 1), sessionId(SESSIONS - 2), sessionId(SESSIONS / 2), 'not-in-the-ledger'];
  const inputs = asked.map((s) => JSON.stringify({ session_id: s, model: { id: 'claude-opus-4-6' }, workspace: { project_dir: '/work/app' } }));

  const inProcess = async (label: string, once: (input: string) => Promise<string>) => {
    for (let k = 0; k < 20; k++) await once(inputs[k % inputs.length]!); // warm-up
    const ms: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      const a = performance.now();
      const line = await once(inputs[k % inputs.length]!);
      ms.push(performance.now() - a);
      if (/unavailable/.test(line)) failures++;
    }
    return { label, ...summarize(ms) };
  };

  const down = await inProcess('in process, gateway down (ledger read-only)', async (input) => {
    let out = '';
    await runStatusline({ stdout: (s) => { out += s; }, readStdin: async () => input, env: { NO_COLOR: '1' } }, dataDir);
    return out;
  });

  // A real gateway on this data dir (its first start migrates nothing: the file is current).
  const gw = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env: { PATH: process.env.PATH ?? '', HOME: dir, SLUICE_DATA_DIR: dataDir, SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-BENCH' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let up;
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 60_000);
      gw.stdout.on('data', (d: Buffer) => { out += d; if (out.includes('dashboard:')) { clearTimeout(timer); resolve(); } });
      gw.stderr.on('data', (d: Buffer) => { out += d; });
      gw.on('exit', (c) => reject(new Error(`serve exited ${c}: ${out}`)));
    });
    const rt = JSON.parse(await import('node:fs/promises').then((f) => f.readFile(join(dataDir, 'admin.json'), 'utf8'))) as { url: string; token: string };
    up = await inProcess('in process, gateway up (loopback admin API)', async (input) => {
      const facts = await gatherFacts(gatewaySource(rt), parseStatusInput(input), Date.now());
      return renderStatusLine(facts, false);
    });
    // 3. The whole command, gateway up, as Claude Code spawns it.
    const spawnMs = (args: string[], stdin: string) => {
      const a = performance.now();
      const r = spawnSync(process.execPath, args, { input: stdin, env: { PATH: process.env.PATH ?? '', HOME: dir, SLUICE_DATA_DIR: dataDir, NO_COLOR: '1' } });
      const ms = performance.now() - a;
      if (r.status !== 0 || r.stderr.length > 0 || /unavailable/.test(String(r.stdout))) failures++;
      return { ms, out: String(r.stdout) };
    };
    const node: number[] = [];
    const cmd: number[] = [];
    let sample = '';
    for (let k = 0; k < SPAWNS; k++) {
      node.push(spawnMs(['-e', ''], '').ms);
      const r = spawnMs([BIN, 'statusline'], inputs[k % inputs.length]!);
      cmd.push(r.ms);
      if (k === 0) sample = r.out.trim();
    }
    const n = summarize(node);
    const c = summarize(cmd);
    const rows = [down, up];
    console.log(`\nLedger: ${ROWS.toLocaleString('en-US')} rows, ${SESSIONS} sessions, 60 days; file ${(statSync(join(dataDir, 'ledger.sqlite')).size / 1e6).toFixed(0)} MB; filled in ${fillSec.toFixed(1)} s`);
    console.log(`Machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}, Node ${process.version}`);
    console.log(`Sample line: ${sample}\n`);
    console.log('| what | runs | p50 (ms) | p99 (ms) | max (ms) | p99 within 50 ms |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const r of rows) console.log(`| ${r.label} | ${r.n} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.p99 <= 50 ? 'yes' : '**no**'} |`);
    console.log(`| whole command \`node dist/proxy/cli.js statusline\`, gateway up | ${c.n} | ${c.p50.toFixed(1)} | ${c.p99.toFixed(1)} | ${c.max.toFixed(1)} | ${c.p99 <= 50 ? 'yes' : '**no**'} |`);
    console.log(`| bare \`node -e ''\` start, same machine | ${n.n} | ${n.p50.toFixed(1)} | ${n.p99.toFixed(1)} | ${n.max.toFixed(1)} | — |`);
    console.log(`\nWhole command minus bare Node start: p50 +${(c.p50 - n.p50).toFixed(1)} ms, p99 +${(c.p99 - n.p99).toFixed(1)} ms; ratio p50 ${(c.p50 / n.p50).toFixed(2)}x.`);
    if (failures > 0) { console.error(`${failures} runs printed an error line`); process.exitCode = 1; }
  } finally {
    gw.kill('SIGTERM');
    await new Promise((r) => (gw.exitCode !== null ? r(null) : gw.on('exit', r)));
  }
} finally {
  if (!existsSync(dir)) process.exit();
  rmSync(dir, { recursive: true, force: true });
}
