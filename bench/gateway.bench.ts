// Gateway benchmark: what Sluice adds on top of a direct call, measured against one upstream
// child process with the real `sluice serve` child in between. Imports bench/lib and the atomic
// file helpers only; the gateway is always measured as a separate process, never in-process.
// Usage: npm run bench [-- --quick] [--json out.json] [--write-results]
//        [--variants default,no-metering] [--cpu-prof-dir DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { readFileIfExists, writeFileAtomic } from '../proxy/store/atomic-file.js';
import { BenchArgsError, parseBenchArgs, planFor, type Budget, type Plan, type SsePlan, type Variant } from './lib/args.js';
import { MESSAGE_JSON } from './lib/bench-upstream.js';
import { messagesBody } from './lib/bodies.js';
import { holdStreams, runClosedLoop, runStreams, type LoadResult, type StreamResult, type Target } from './lib/load.js';
import {
  createChildSet, readCpuTicks, readRssKb, runCliOnce, startGatewayChild, startUpstreamChild, type StartedChild,
} from './lib/processes.js';
import {
  evaluate, renderGatewaySection, renderTable, replaceSection,
  type LatencyScenario, type RssScenario, type SseScenario, type VariantResult,
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

/** Round r runs direct first when r is even, the gateway first when odd: drift cancels out. */
function roundOrder<T>(r: number, direct: T, gateway: T): T[] {
  return r % 2 === 0 ? [direct, gateway] : [gateway, direct];
}

interface Ctx {
  plan: Plan;
  direct: Target;
  gateway: Target;
  gw: StartedChild;
}

async function latencyScenario(ctx: Ctx, sc: Plan['latency'][number]): Promise<LatencyScenario & { gatewayCpuUsPerRequest: number }> {
  const body = messagesBody(sc.bytes, false);
  const per = split(sc.budget, ctx.plan.rounds);
  const acc: Record<Target['name'], LoadResult[]> = { direct: [], gateway: [] };
  let cpuTicks = 0;
  for (let r = 0; r < ctx.plan.rounds; r++) {
    for (const t of roundOrder(r, ctx.direct, ctx.gateway)) {
      const common = { path: MESSAGES_PATH, body, concurrency: sc.concurrency, expectBytes: MESSAGE_JSON.length };
      await runClosedLoop(t, { ...common, ...ctx.plan.warmup });
      const before = t.name === 'gateway' ? readCpuTicks(ctx.gw.pid) : 0;
      acc[t.name].push(await runClosedLoop(t, { ...common, ...per }));
      if (t.name === 'gateway') cpuTicks += readCpuTicks(ctx.gw.pid) - before;
    }
  }
  const merge = (rs: LoadResult[]) => ({
    latencies: rs.flatMap((x) => x.latenciesUs),
    completed: rs.reduce((n, x) => n + x.completed, 0),
    errors: rs.reduce((n, x) => n + x.errors, 0),
    firstError: rs.find((x) => x.firstError)?.firstError ?? null,
    seconds: rs.reduce((n, x) => n + x.elapsedMs, 0) / 1000,
  });
  const d = merge(acc.direct);
  const g = merge(acc.gateway);
  for (const m of [d, g]) if (m.firstError) log(`  errors (${m.errors}), first: ${m.firstError}`);
  const gatewayCpuUsPerRequest = (cpuTicks * 1e6) / CLK_TCK / Math.max(1, g.completed + g.errors);
  log(`  ${sc.size} c=${sc.concurrency}: direct ${d.completed} req, gateway ${g.completed} req, gateway CPU ${gatewayCpuUsPerRequest.toFixed(0)} µs/req`);
  return {
    size: sc.size,
    concurrency: sc.concurrency,
    latencyUs: { direct: summarize(d.latencies), gateway: summarize(g.latencies) },
    rps: { direct: d.completed / d.seconds, gateway: g.completed / g.seconds },
    errors: { direct: d.errors, gateway: g.errors },
    gatewayCpuUsPerRequest,
  };
}

async function sseScenario(ctx: Ctx, s: SsePlan): Promise<SseScenario> {
  const body = messagesBody(2 * 1024, true);
  const per = split(s.budget, ctx.plan.rounds);
  const acc: Record<Target['name'], StreamResult[]> = { direct: [], gateway: [] };
  const common = { path: MESSAGES_PATH, body, concurrency: s.concurrency, events: s.events, gapMs: s.gapMs };
  for (let r = 0; r < ctx.plan.rounds; r++) {
    for (const t of roundOrder(r, ctx.direct, ctx.gateway)) {
      await runStreams(t, { ...common, maxStreams: Math.max(10, s.concurrency), maxMs: 2_000 });
      acc[t.name].push(await runStreams(t, { ...common, maxStreams: per.maxRequests, maxMs: per.maxMs }));
    }
  }
  const merge = (rs: StreamResult[]) => ({
    ttfb: rs.flatMap((x) => x.ttfbUs),
    delay: rs.flatMap((x) => x.delayUs),
    gap: rs.flatMap((x) => x.gapUs),
    streams: rs.reduce((n, x) => n + x.streams, 0),
    errors: rs.reduce((n, x) => n + x.errors, 0),
    negative: rs.reduce((n, x) => n + x.negativeDelays, 0),
    firstError: rs.find((x) => x.firstError)?.firstError ?? null,
  });
  const d = merge(acc.direct);
  const g = merge(acc.gateway);
  for (const m of [d, g]) if (m.firstError) log(`  stream errors (${m.errors}), first: ${m.firstError}`);
  log(`  SSE ${s.events} events/${s.gapMs} ms c=${s.concurrency}: direct ${d.streams} streams, gateway ${g.streams} streams`);
  return {
    events: s.events,
    gapMs: s.gapMs,
    concurrency: s.concurrency,
    streams: { direct: d.streams, gateway: g.streams },
    ttfbUs: { direct: summarize(d.ttfb), gateway: summarize(g.ttfb) },
    delayUs: { direct: summarize(d.delay), gateway: summarize(g.delay) },
    gapUs: { direct: summarize(d.gap), gateway: summarize(g.gap) },
    errors: { direct: d.errors, gateway: g.errors },
    negativeDelays: d.negative + g.negative,
  };
}

/** RSS first, on a gateway that has only been warmed up: later 1 MB scenarios inflate the heap. */
async function rssScenario(ctx: Ctx): Promise<RssScenario> {
  const p = ctx.plan.rss;
  const small = messagesBody(2 * 1024, false);
  await runClosedLoop(ctx.gateway, { path: MESSAGES_PATH, body: small, concurrency: 10, expectBytes: MESSAGE_JSON.length, ...ctx.plan.warmup });
  await runStreams(ctx.gateway, { path: MESSAGES_PATH, body: messagesBody(2 * 1024, true), concurrency: 10, maxStreams: 20, maxMs: 2_000, events: 6, gapMs: 1 });
  await sleep(p.idleWaitMs);
  const idleSamples: number[] = [];
  for (let i = 0; i < 5; i++) {
    idleSamples.push(readRssKb(ctx.gw.pid));
    await sleep(50);
  }
  const idleKb = summarize(idleSamples).p50;
  const held = holdStreams(ctx.gateway, { path: MESSAGES_PATH, body: messagesBody(2 * 1024, true), count: p.streams, gapMs: p.gapMs });
  let heldKb = 0;
  try {
    await Promise.race([
      held.ready,
      sleep(15_000).then(() => { throw new Error(`${p.streams} streams did not all start within 15 s`); }),
    ]);
    const until = Date.now() + p.holdMs;
    while (Date.now() < until) {
      heldKb = Math.max(heldKb, readRssKb(ctx.gw.pid));
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

async function setUpDataDir(children: ReturnType<typeof createChildSet>, dataDir: string, variant: Variant, env: Record<string, string>): Promise<string> {
  const out = await runCliOnce(children, BIN, ['token', 'create', 'bench', '--data-dir', dataDir], env);
  const token = out.trim().split('\n').at(-1)?.trim();
  if (!token) throw new Error('`sluice token create` printed no token');
  if (variant === 'no-metering') {
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

function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}
const CLK_TCK = clockTicksPerSecond();

function commandLine(argv: string[]): string {
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  return `node --import tsx bench/gateway.bench.ts${argv.length ? ` ${argv.join(' ')}` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof BenchArgsError) {
      process.stderr.write(`gateway bench: ${err.message}\nUsage: npm run bench -- [--quick] [--json out.json] [--write-results] [--variants default,no-metering] [--cpu-prof-dir DIR]\n`);
      return 2;
    }
    throw err;
  }
  if (!existsSync(BIN)) {
    process.stderr.write(`gateway bench: ${BIN} is missing; run \`npm run build\` first\n`);
    return 2;
  }
  const plan = planFor(args.quick);
  const notes: string[] = [];
  if (newestSourceMtime(join(ROOT, 'proxy')) > statSync(BIN).mtimeMs) {
    const msg = 'dist/ is older than some proxy/ source: the measured gateway is the last `npm run build`, not the working tree.';
    log(`warning: ${msg}`);
    notes.push(msg);
  }
  const gatewayJs = readFileSync(join(ROOT, 'dist', 'proxy', 'gateway.js'), 'utf8');
  const meteringWired = gatewayJs.includes('metering.enabled');
  if (!meteringWired) {
    notes.push(args.variants.includes('no-metering')
      ? 'The built gateway does not read `settings.metering` yet: the default and no-metering variants run the same code, so their difference is run-to-run noise.'
      : 'The built gateway does not read `settings.metering` yet (no metering on the request path); run `--variants default,no-metering` once it does.');
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
  log(`${machine}`);
  log(`plan: ${args.quick ? 'quick' : 'full'}, ${plan.rounds} alternating rounds per scenario, variants ${args.variants.join(', ')}`);

  // Other work on the machine shows up as noise, mostly in the p99s: record how busy it was.
  const loadBefore = loadavg()[0]!;
  const upstream = await startUpstreamChild(children);
  log(`upstream child pid ${upstream.pid} at ${upstream.url}`);
  const directPool = newPool(upstream.url);
  const direct: Target = { name: 'direct', pool: directPool, headers: { 'x-api-key': FAKE_PROVIDER_KEY } };
  const results: (VariantResult & { cpuUsPerRequest: Record<string, number> })[] = [];
  const t0 = Date.now();
  try {
    for (const variant of args.variants) {
      const dataDir = join(tmp, variant);
      // A minimal environment: no session bus, so the keychain lookup fails fast and the env
      // key is used, as on a headless machine; `warn` keeps per-request logging off.
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: tmp,
        SLUICE_ANTHROPIC_BASE_URL: upstream.url,
        SLUICE_ANTHROPIC_API_KEY: FAKE_PROVIDER_KEY,
        SLUICE_LOG_LEVEL: 'warn',
      };
      const token = await setUpDataDir(children, dataDir, variant, env);
      const nodeArgs = args.cpuProfDir
        ? ['--cpu-prof', '--cpu-prof-dir', resolvePath(args.cpuProfDir), '--cpu-prof-name', `gateway-${variant}-${Date.now()}.cpuprofile`]
        : [];
      const gw = await startGatewayChild(children, { bin: BIN, dataDir, env, nodeArgs });
      log(`variant ${variant}: gateway child pid ${gw.pid} at ${gw.url}`);
      const gatewayPool = newPool(gw.url);
      const gateway: Target = { name: 'gateway', pool: gatewayPool, headers: { 'x-api-key': token } };
      const ctx: Ctx = { plan, direct, gateway, gw };
      try {
        const rss = await rssScenario(ctx);
        const latency: LatencyScenario[] = [];
        const cpuUsPerRequest: Record<string, number> = {};
        for (const sc of plan.latency) {
          const { gatewayCpuUsPerRequest, ...res } = await latencyScenario(ctx, sc);
          latency.push(res);
          cpuUsPerRequest[`${sc.size} c=${sc.concurrency}`] = gatewayCpuUsPerRequest;
        }
        const sseTtfb = await sseScenario(ctx, plan.sseTtfb);
        const sseChunks = await sseScenario(ctx, plan.sseChunks);
        results.push({ variant, latency, sseTtfb, sseChunks, rss, cpuUsPerRequest });
      } finally {
        await gatewayPool.close();
        // SIGTERM lets the gateway drain and exit normally, which is when --cpu-prof writes.
        await gw.stop(10_000);
        const out = gw.output().split('\n').filter((l) => /warn|error/i.test(l));
        if (out.length) log(`gateway ${variant} logged:\n${out.slice(0, 10).join('\n')}`);
      }
    }
  } finally {
    await directPool.close();
    await upstream.stop();
  }
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const loadAfter = loadavg()[0]!;
  notes.push(`1-minute load average ${loadBefore.toFixed(2)} when the run started (other processes; ${cpu.length} cores), ${loadAfter.toFixed(2)} at its end (including the bench's own three).`);

  const negative = results.reduce((n, r) => n + r.sseTtfb.negativeDelays + r.sseChunks.negativeDelays, 0);
  if (negative > 0) notes.push(`${negative} SSE events arrived before their send stamp: the per-event delays are void on this machine.`);
  notes.push(`Load generator, gateway and upstream are three processes sharing the ${cpu.length} cores; gateway CPU per request (from /proc/<pid>/stat): ${results.map((r) => `${r.variant}: ${Object.entries(r.cpuUsPerRequest).map(([k, v]) => `${k} ${v.toFixed(0)} µs`).join(', ')}`).join('; ')}.`);

  const variants = results.map((r) => ({ name: r.variant, rows: evaluate(r), table: renderTable(evaluate(r)) }));
  process.stdout.write(`\nSluice gateway benchmark — ${machine}\n\n`);
  for (const v of variants) process.stdout.write(`### Variant: ${v.name}\n\n${v.table}\n`);
  for (const n of notes) process.stdout.write(`- ${n}\n`);

  const date = new Date().toISOString().slice(0, 10);
  if (args.json) {
    const out = resolvePath(args.json);
    await writeFileAtomic(out, `${JSON.stringify({ date, machine, command, plan, notes, results, rows: Object.fromEntries(variants.map((v) => [v.name, v.rows])) }, null, 2)}\n`, { backup: false, mode: 0o644 });
    log(`wrote ${out}`);
  }
  if (args.writeResults) {
    const section = renderGatewaySection({ date, machine, command, variants: variants.map((v) => ({ name: v.name, table: v.table })), notes });
    await writeFileAtomic(RESULTS, replaceSection(await readFileIfExists(RESULTS), 'Gateway', section), { backup: false, mode: 0o644 });
    log(`wrote the Gateway section of ${RESULTS}`);
  }
  const failed = results.reduce((n, r) => n + Number(evaluate(r).find((row) => row.metric.startsWith('Failed requests'))!.measured), 0);
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
