// CPU per request of the relay and one or two Sluice builds, side by side in one run: the
// quick A/B for a hot-path change (gateway.bench.ts is the full, recorded benchmark).
// Each target gets `--n` requests per round, the targets take turns for `--rounds` rounds, and
// the median of the rounds is reported, after one uncounted warm-up round each. Pinned as
// the gateway bench pins (load generator and upstream on CPU 0, proxy on CPU 1) when taskset
// exists. Settings are merged into the data dir's settings.json before start.
//
//   node --import tsx bench/cpu-ab.ts [--base /path/to/other/checkout/dist/proxy/cli.js]
//       [--settings '{"metering":{"enabled":false}}'] [--base-settings JSON]
//       [--size 2048] [--c 10] [--n 10000] [--rounds 6] [--node-args=--trace-gc]  (node flags for this tree's gateway)
//
// e.g. metering's cost: --base dist/proxy/cli.js --base-settings '{"metering":{"enabled":false}}'
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { MESSAGE_JSON } from './lib/bench-upstream.js';
import { messagesBody } from './lib/bodies.js';
import { runClosedLoop, type Target } from './lib/load.js';
import {
  clockTicksPerSecond, createChildSet, hasCommand, readCpuTicks, runCliOnce, setPinning, startGatewayChild, startRelayChild, startUpstreamChild,
} from './lib/processes.js';

const { values: a } = parseArgs({
  options: {
    base: { type: 'string' }, settings: { type: 'string' }, 'base-settings': { type: 'string' },
    size: { type: 'string', default: '2048' }, c: { type: 'string', default: '10' },
    n: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '6' },
    'node-args': { type: 'string' },
  },
});
const SIZE = Number(a.size), C = Number(a.c), N = Number(a.n), ROUNDS = Number(a.rounds);
const BIN = resolve('dist/proxy/cli.js');
const KEY = 'sk-ant-bench-not-a-key';
const CLK_TCK = clockTicksPerSecond();

const children = createChildSet();
process.on('exit', () => children.killAll());
const pin = hasCommand('taskset') && cpus().length >= 2;
if (pin) {
  setPinning({ load: '0', proxy: '1', upstream: '0' });
  // The load generator is this process: every thread of it on CPU 0.
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
}
const tmp = mkdtempSync(join(tmpdir(), 'sluice-cpu-ab-'));
try {
  const upstream = await startUpstreamChild(children);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, SLUICE_ANTHROPIC_BASE_URL: upstream.url, SLUICE_ANTHROPIC_API_KEY: KEY, SLUICE_LOG_LEVEL: 'warn',
  };
  const relay = await startRelayChild(children, upstream.url);
  const targets: (Target & { pid: number; label: string })[] = [
    { name: 'relay', label: 'relay', pool: new Pool(relay.url, { connections: 256 }), headers: { 'x-api-key': KEY }, pid: relay.pid },
  ];
  const gateway = async (label: string, bin: string, settings: string | undefined) => {
    const dataDir = join(tmp, label);
    const out = await runCliOnce(children, bin, ['token', 'create', 'bench', '--data-dir', dataDir], env);
    const token = out.trim().split('\n').at(-1)!.trim();
    if (settings) {
      const file = join(dataDir, 'settings.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...JSON.parse(settings) }));
    }
    const g = await startGatewayChild(children, { bin, dataDir, env, nodeArgs: label === 'sluice' && a['node-args'] ? a['node-args'].split(' ') : [] });
    if (a['node-args']) g.proc.stdout?.on('data', (d) => process.stderr.write(d));
    targets.push({ name: 'sluice', label, pool: new Pool(g.url, { connections: 256 }), headers: { authorization: `Bearer ${token}` }, pid: g.pid });
  };
  await gateway('sluice', BIN, a.settings);
  if (a.base) await gateway('base', resolve(a.base), a['base-settings']);

  const opts = { path: '/v1/messages', body: messagesBody(SIZE, false), concurrency: C, maxRequests: N, maxMs: 60_000, expectBytes: MESSAGE_JSON.length };
  const perRound = new Map<string, number[]>(targets.map((t) => [t.label, []]));
  // A first round per target warms the JIT and the ledger's caches; not counted.
  for (const t of targets) await runClosedLoop(t, opts);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(r + k) % targets.length]!;
      const before = readCpuTicks(t.pid);
      const res = await runClosedLoop(t, opts);
      if (res.errors > 0) throw new Error(`${t.label}: ${res.errors} failed requests, first: ${res.firstError}`);
      perRound.get(t.label)!.push(((readCpuTicks(t.pid) - before) * (1e6 / CLK_TCK)) / res.completed);
    }
  }
  console.log(`${SIZE} B bodies, c=${C}, ${N} requests x ${ROUNDS} rounds per target${pin ? ', pinned (proxy on CPU 1)' : ''}`);
  const relayMedian = median(perRound.get('relay')!);
  for (const [label, xs] of perRound) {
    const m = median(xs);
    console.log(`${label.padEnd(8)} median ${m.toFixed(1).padStart(6)} µs CPU/request  (${(m / relayMedian).toFixed(2)}x relay)  rounds: ${xs.map((x) => x.toFixed(0)).join(' ')}`);
  }
} finally {
  children.killAll();
  rmSync(tmp, { recursive: true, force: true });
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
