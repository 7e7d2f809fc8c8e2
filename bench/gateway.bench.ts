// Gateway benchmark: Sluice next to a bare undici relay and nginx, all in front of one upstream
// child process, each metric reported as a ratio to the relay. Imports bench/lib and the atomic
// file helpers only; every proxy is measured as a separate process, never in-process.
// Usage: npm run bench [-- --quick] [--json out.json] [--write-results] [--targets LIST]
//        [--scenarios 2KB/c10,1MB/c1] [--cpu-prof-dir DIR] [--relay-undici DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { readFileIfExists, writeFileAtomic } from '../proxy/store/atomic-file.js';
import {
  BenchArgsError, parseBenchArgs, planFor, scenarioKey, type Budget, type LatencyPlan, type Plan, type SsePlan, type TargetName,
} from './lib/args.js';
import { MESSAGE_JSON } from './lib/bench-upstream.js';
import { messagesBody } from './lib/bodies.js';
import { holdStreams, runClosedLoop, runStreams, type LoadResult, type StreamResult, type Target } from './lib/load.js';
import {
  clockTicksPerSecond, createChildSet, hasCommand, readCpuTicks, readRssKb, runCliOnce, setPinning, startGatewayChild, startNginxChild,
  startRelayChild, startUpstreamChild, type StartedChild,
} from './lib/processes.js';
import {
  evaluate, failedRequests, renderGatewaySection, renderTable, replaceSection,
  type BenchResult, type LatencyScenario, type RssScenario, type SseScenario,
} from './lib/report.js';
import { summarize } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'proxy', 'cli.js');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
// Obviously fake: the bench upstream never checks it, and it must not look like a real key.
const FAKE_PROVIDER_KEY = 'sk-ant-api03-FAKE-bench';
const MESSAGES_PATH = '/v1/messages';

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

function split(b: Budget, rounds: number): Budget {
  return { maxRequests: Math.max(1, Math.ceil(b.maxRequests / rounds)), maxMs: b.maxMs / rounds };
}

/** Round r starts with target r mod n: each target runs early and late, and drift cancels out. */
export function roundOrder<T>(r: number, targets: readonly T[]): T[] {
  const k = r % targets.length;
  return [...targets.slice(k), ...targets.slice(0, k)];
}

interface Proxied extends Target {
  /** The proxy process whose CPU is counted; null for direct. */
  pid: number | null;
}

interface Ctx {
  plan: Plan;
  targets: Proxied[];
  sluice: Proxied | null;
}

async function latencyScenario(ctx: Ctx, sc: LatencyPlan): Promise<LatencyScenario> {
  const body = messagesBody(sc.bytes, false);
  const per = split(sc.budget, ctx.plan.rounds);
  const common = { path: MESSAGES_PATH, body, concurrency: sc.concurrency, expectBytes: MESSAGE_JSON.length };
  const acc = new Map<TargetName, { rs: LoadResult[]; ticks: number }>(ctx.targets.map((t) => [t.name, { rs: [], ticks: 0 }]));
  for (const t of ctx.targets) await runClosedLoop(t, { ...common, ...ctx.plan.warmup });
  for (let r = 0; r < ctx.plan.rounds; r++) {
    for (const t of roundOrder(r, ctx.targets)) {
      const a = acc.get(t.name)!;
      const before = t.pid === null ? 0 : readCpuTicks(t.pid);
      a.rs.push(await runClosedLoop(t, { ...common, ...per }));
      if (t.pid !== null) a.ticks += readCpuTicks(t.pid) - before;
    }
  }
  const by: LatencyScenario['by'] = {};
  const line: string[] = [];
  for (const t of ctx.targets) {
    const { rs, ticks } = acc.get(t.name)!;
    const completed = rs.reduce((n, x) => n + x.completed, 0);
    const errors = rs.reduce((n, x) => n + x.errors, 0);
    const firstError = rs.find((x) => x.firstError)?.firstError;
    if (firstError) log(`  ${t.name}: errors (${errors}), first: ${firstError}`);
    const seconds = rs.reduce((n, x) => n + x.elapsedMs, 0) / 1000;
    const cpuUsPerRequest = t.pid === null ? null : (ticks * 1e6) / CLK_TCK / Math.max(1, completed + errors);
    by[t.name] = { latencyUs: summarize(rs.flatMap((x) => x.latenciesUs)), rps: completed / seconds, errors, cpuUsPerRequest };
    line.push(`${t.name} ${Math.round(completed / seconds)}/s${cpuUsPerRequest === null ? '' : ` ${cpuUsPerRequest.toFixed(0)} µs CPU`}`);
  }
  log(`  ${sc.size} c=${sc.concurrency}: ${line.join(', ')}`);
  return { size: sc.size, concurrency: sc.concurrency, by };
}

async function sseScenario(ctx: Ctx, s: SsePlan, targets: Proxied[]): Promise<SseScenario> {
  const body = messagesBody(2 * 1024, true);
  const per = split(s.budget, ctx.plan.rounds);
  const common = { path: MESSAGES_PATH, body, concurrency: s.concurrency, events: s.events, gapMs: s.gapMs };
  const acc = new Map<TargetName, StreamResult[]>(targets.map((t) => [t.name, []]));
  for (const t of targets) await runStreams(t, { ...common, maxStreams: Math.max(10, s.concurrency), maxMs: 1_000 });
  for (let r = 0; r < ctx.plan.rounds; r++) {
    for (const t of roundOrder(r, targets)) acc.get(t.name)!.push(await runStreams(t, { ...common, maxStreams: per.maxRequests, maxMs: per.maxMs }));
  }
  const by: SseScenario['by'] = {};
  let negative = 0;
  for (const t of targets) {
    const rs = acc.get(t.name)!;
    const errors = rs.reduce((n, x) => n + x.errors, 0);
    const firstError = rs.find((x) => x.firstError)?.firstError;
    if (firstError) log(`  ${t.name}: stream errors (${errors}), first: ${firstError}`);
    negative += rs.reduce((n, x) => n + x.negativeDelays, 0);
    by[t.name] = {
      ttfbUs: summarize(rs.flatMap((x) => x.ttfbUs)),
      delayUs: summarize(rs.flatMap((x) => x.delayUs)),
      streams: rs.reduce((n, x) => n + x.streams, 0),
      errors,
    };
  }
  log(`  SSE ${s.events} events/${s.gapMs} ms c=${s.concurrency}: ${targets.map((t) => `${t.name} ${by[t.name]!.streams} streams`).join(', ')}`);
  return { events: s.events, gapMs: s.gapMs, concurrency: s.concurrency, by, negativeDelays: negative };
}

/** RSS first, on a gateway that has only been warmed up: later 1 MB scenarios inflate the heap. */
async function rssScenario(ctx: Ctx, gw: Proxied & { pid: number }): Promise<RssScenario> {
  const p = ctx.plan.rss;
  const small = messagesBody(2 * 1024, false);
  await runClosedLoop(gw, { path: MESSAGES_PATH, body: small, concurrency: 10, expectBytes: MESSAGE_JSON.length, ...ctx.plan.warmup });
  await runStreams(gw, { path: MESSAGES_PATH, body: messagesBody(2 * 1024, true), concurrency: 10, maxStreams: 20, maxMs: 2_000, events: 6, gapMs: 1 });
  await sleep(p.idleWaitMs);
  const idleSamples: number[] = [];
  for (let i = 0; i < 5; i++) {
    idleSamples.push(readRssKb(gw.pid));
    await sleep(50);
  }
  const idleKb = summarize(idleSamples).p50;
  const held = holdStreams(gw, { path: MESSAGES_PATH, body: messagesBody(2 * 1024, true), count: p.streams, gapMs: p.gapMs });
  let heldKb = 0;
  try {
    await Promise.race([
      held.ready,
      sleep(15_000).then(() => { throw new Error(`${p.streams} streams did not all start within 15 s`); }),
    ]);
    const until = Date.now() + p.holdMs;
    while (Date.now() < until) {
      heldKb = Math.max(heldKb, readRssKb(gw.pid));
      await sleep(100);
    }
  } finally {
    await held.release();
  }
  log(`  RSS: idle ${(idleKb / 1024).toFixed(1)} MB, with ${p.streams} streams ${(heldKb / 1024).toFixed(1)} MB`);
  return { streams: p.streams, idleKb, heldKb };
}

function newPool(url: string): Pool {
  // One connection per concurrent request at the highest concurrency, plus the held streams.
  return new Pool(url, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
}

async function setUpDataDir(children: ReturnType<typeof createChildSet>, dataDir: string, metering: boolean, env: Record<string, string>): Promise<string> {
  const out = await runCliOnce(children, BIN, ['token', 'create', 'bench', '--data-dir', dataDir], env);
  const token = out.trim().split('\n').at(-1)?.trim();
  if (!token) throw new Error('`sluice token create` printed no token');
  if (!metering) {
    // After token create: that command rewrites settings.json through the schema.
    const file = join(dataDir, 'settings.json');
    const settings = JSON.parse((await readFileIfExists(file)) ?? '{"version":1}') as Record<string, unknown>;
    settings.metering = { enabled: false };
    await writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`, { backup: false });
  }
  return token;
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

const CLK_TCK = clockTicksPerSecond();

function commandLine(argv: string[]): string {
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  return `node --import tsx bench/gateway.bench.ts${argv.length ? ` ${argv.join(' ')}` : ''}`;
}

const USAGE = 'Usage: npm run bench -- [--quick] [--json out.json] [--write-results] [--targets direct,nginx,relay,sluice,sluice-nometer] [--scenarios 2KB/c10,1MB/c1] [--cpu-prof-dir DIR] [--relay-undici DIR]';

/** CPU lists for the load generator, the proxy under test and the upstream (null: no taskset). */
function pinningFor(cores: number, taskset: boolean): { load: string; proxy: string; upstream: string } | null {
  if (!taskset || cores < 2) return null;
  // Two cores: the proxy gets one to itself; the load generator and the upstream share the other.
  return { load: '0', proxy: '1', upstream: cores >= 3 ? '2' : '0' };
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof BenchArgsError) {
      process.stderr.write(`gateway bench: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  const wantSluice = args.targets.some((t) => t.startsWith('sluice'));
  if (wantSluice && !existsSync(BIN)) {
    process.stderr.write(`gateway bench: ${BIN} is missing; run \`npm run build\` first\n`);
    return 2;
  }
  const plan = planFor(args.quick);
  if (args.scenarios) plan.latency = plan.latency.filter((s) => args.scenarios!.includes(scenarioKey(s)));
  const full = args.scenarios === null;
  const notes: string[] = [];
  if (wantSluice && newestSourceMtime(join(ROOT, 'proxy')) > statSync(BIN).mtimeMs) {
    const msg = 'dist/ is older than some proxy/ source: the measured gateway is the last `npm run build`, not the working tree.';
    log(`warning: ${msg}`);
    notes.push(msg);
  }
  let targetNames = args.targets;
  if (targetNames.includes('nginx') && !hasCommand('nginx', ['-v'])) {
    targetNames = targetNames.filter((t) => t !== 'nginx');
    notes.push('nginx is not installed here: no nginx column (`apt-get install nginx-light` adds it).');
  }

  const children = createChildSet();
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-gateway-bench-'));
  const cleanup = () => {
    children.killAll('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping children`);
      cleanup();
      process.exit(130);
    });
  }

  const cpu = cpus();
  const machine = `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${process.platform} ${process.arch}, Node ${process.version}`;
  const command = commandLine(argv);
  log(machine);
  log(`plan: ${args.quick ? 'quick' : 'full'}, ${plan.rounds} rotating rounds per scenario, targets ${targetNames.join(', ')}`);
  const pins = pinningFor(cpu.length, hasCommand('taskset', ['-V']));
  if (pins) {
    execFileSync('taskset', ['-a', '-p', '-c', pins.load, String(process.pid)], { stdio: 'ignore' });
    setPinning(pins);
    notes.push(`Pinned with taskset: load generator on CPU ${pins.load}, the proxy under test (nginx, relay, Sluice) on CPU ${pins.proxy}, upstream on CPU ${pins.upstream}.`);
  } else {
    notes.push('Not pinned (no taskset, or one core): the three processes share every core.');
  }

  // Other work on the machine shows up as noise, mostly in the p99s: record how busy it was.
  const loadBefore = loadavg();
  const upstream = await startUpstreamChild(children);
  log(`upstream child pid ${upstream.pid} at ${upstream.url}`);
  const started: StartedChild[] = [];
  const targets: Proxied[] = [];
  const pools: Pool[] = [];
  const add = (name: TargetName, url: string, pid: number | null, headers: Record<string, string>) => {
    const pool = newPool(url);
    pools.push(pool);
    targets.push({ name, pool, pid, headers });
  };
  const t0 = Date.now();
  let result: BenchResult;
  try {
    for (const name of targetNames) {
      if (name === 'direct') add(name, upstream.url, null, { 'x-api-key': FAKE_PROVIDER_KEY });
      else if (name === 'nginx') {
        const c = await startNginxChild(children, join(tmp, 'nginx'), upstream.url);
        started.push(c);
        add(name, c.url, c.pid, { 'x-api-key': FAKE_PROVIDER_KEY });
      } else if (name === 'relay' || name === 'relay-alt') {
        const c = await startRelayChild(children, upstream.url, name === 'relay-alt' ? resolvePath(args.relayUndici!) : undefined);
        started.push(c);
        add(name, c.url, c.pid, { 'x-api-key': FAKE_PROVIDER_KEY });
      } else {
        const metering = name === 'sluice';
        const dataDir = join(tmp, name);
        // A minimal environment: no session bus, so the keychain lookup fails fast and the env
        // key is used, as on a headless machine; `warn` keeps per-request logging off.
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: tmp,
          SLUICE_ANTHROPIC_BASE_URL: upstream.url,
          SLUICE_ANTHROPIC_API_KEY: FAKE_PROVIDER_KEY,
          SLUICE_LOG_LEVEL: 'warn',
        };
        const token = await setUpDataDir(children, dataDir, metering, env);
        const nodeArgs = args.cpuProfDir && metering
          ? ['--cpu-prof', '--cpu-prof-dir', resolvePath(args.cpuProfDir), '--cpu-prof-name', `gateway-${plan.latency.map(scenarioKey).join('+').replaceAll('/', '-')}-${Date.now()}.cpuprofile`]
          : [];
        const c = await startGatewayChild(children, { bin: BIN, dataDir, env, nodeArgs });
        started.push(c);
        add(name, c.url, c.pid, { 'x-api-key': token });
      }
      log(`${name}: ${targets.at(-1)!.pid ? `pid ${targets.at(-1)!.pid}` : 'the upstream itself'}`);
    }
    const sluice = targets.find((t) => t.name === 'sluice') ?? null;
    const ctx: Ctx = { plan, targets, sluice };
    const rss = full && sluice ? await rssScenario(ctx, sluice as Proxied & { pid: number }) : null;
    const latency: LatencyScenario[] = [];
    for (const sc of plan.latency) latency.push(await latencyScenario(ctx, sc));
    const streamTargets = targets.filter((t) => t.name !== 'sluice-nometer' && t.name !== 'relay-alt');
    const sseTtfb = full ? await sseScenario(ctx, plan.sseTtfb, streamTargets) : null;
    const sseChunks = full ? await sseScenario(ctx, plan.sseChunks, streamTargets) : null;
    result = { targets: targets.map((t) => t.name), latency, sseTtfb, sseChunks, rss };
  } finally {
    for (const p of pools) await p.close();
    // SIGTERM lets the gateway drain and exit normally, which is when --cpu-prof writes.
    for (const c of started) {
      await c.stop(10_000);
      const out = c.output().split('\n').filter((l) => /warn|error/i.test(l));
      if (out.length) log(`pid ${c.pid} logged:\n${out.slice(0, 10).join('\n')}`);
    }
    await upstream.stop();
  }
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const loadAfter = loadavg();
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  notes.push(`Load average (1 / 5 / 15 min) ${la(loadBefore)} when the run started (other processes; ${cpu.length} cores), ${la(loadAfter)} at its end (including the bench's own processes).`);
  const negative = (result.sseTtfb?.negativeDelays ?? 0) + (result.sseChunks?.negativeDelays ?? 0);
  if (negative > 0) notes.push(`${negative} SSE events arrived before their send stamp: the per-event delays are void on this machine.`);
  notes.push('Proxy CPU per request is utime + stime of the proxy process (/proc/<pid>/stat) over its rounds, divided by its requests: the most load-independent number here.');
  if (args.relayUndici) notes.push(`"Relay (alt undici)" is the same relay on the undici in ${args.relayUndici}.`);

  const rows = evaluate(result);
  const table = renderTable(result.targets, rows);
  process.stdout.write(`\nSluice gateway benchmark — ${machine}\n\n${table}\n`);
  for (const n of notes) process.stdout.write(`- ${n}\n`);

  const date = new Date().toISOString().slice(0, 10);
  if (args.json) {
    const out = resolvePath(args.json);
    await writeFileAtomic(out, `${JSON.stringify({ date, machine, command, plan, notes, result, rows }, null, 2)}\n`, { backup: false, mode: 0o644 });
    log(`wrote ${out}`);
  }
  if (args.writeResults) {
    const section = renderGatewaySection({ date, machine, command, table, notes });
    await writeFileAtomic(RESULTS, replaceSection(await readFileIfExists(RESULTS), 'Gateway', section), { backup: false, mode: 0o644 });
    log(`wrote the Gateway section of ${RESULTS}`);
  }
  const failed = Object.values(failedRequests(result)).reduce((n, x) => n + x, 0);
  // Targets are reported, not enforced: a miss is a finding. Failed requests void the numbers.
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`gateway bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
