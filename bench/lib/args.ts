// Command-line options of the gateway benchmark and the per-scenario budgets they select.
// Pure: parses an argv array, never reads process state.
import { parseArgs } from 'node:util';

/**
 * What the load generator can hit, in column order: the upstream itself, nginx, the bare undici
 * relay (lib/relay.ts), Sluice with default settings, and Sluice with metering off (for the
 * metering-cost target). `relay-alt` is the relay on another undici (--relay-undici).
 */
export const TARGETS = ['direct', 'nginx', 'relay', 'relay-alt', 'sluice', 'sluice-nometer'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface BenchArgs {
  quick: boolean;
  json: string | null;
  writeResults: boolean;
  /** Targets to run (nginx is dropped later when it is not installed). */
  targets: TargetName[];
  /** Latency scenarios to run, as `2KB/c10` keys; null for all (SSE and RSS run only then). */
  scenarios: string[] | null;
  /** Directory for the Sluice child's --cpu-prof output; null for none. */
  cpuProfDir: string | null;
  /** An undici package directory for the `relay-alt` target (e.g. undici 7). */
  relayUndici: string | null;
}

export class BenchArgsError extends Error {}

const DEFAULT_TARGETS: TargetName[] = ['direct', 'nginx', 'relay', 'sluice', 'sluice-nometer'];

export function parseBenchArgs(argv: string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        'write-results': { type: 'boolean', default: false },
        targets: { type: 'string' },
        scenarios: { type: 'string' },
        'cpu-prof-dir': { type: 'string' },
        'relay-undici': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new BenchArgsError((err as Error).message);
  }
  const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
  let targets = values.targets === undefined ? [...DEFAULT_TARGETS] : list(values.targets);
  if (targets.length === 0) throw new BenchArgsError(`--targets needs at least one of: ${TARGETS.join(', ')}`);
  for (const t of targets) {
    if (!(TARGETS as readonly string[]).includes(t)) throw new BenchArgsError(`unknown target "${t}"; known: ${TARGETS.join(', ')}`);
  }
  if (new Set(targets).size !== targets.length) throw new BenchArgsError('--targets lists a target twice');
  if (values['relay-undici'] && !targets.includes('relay-alt')) targets.push('relay-alt');
  if (targets.includes('relay-alt') && !values['relay-undici']) throw new BenchArgsError('relay-alt needs --relay-undici DIR');
  targets = TARGETS.filter((t) => targets.includes(t));
  const known = planFor(false).latency.map(scenarioKey);
  const scenarios = values.scenarios === undefined ? null : list(values.scenarios);
  for (const s of scenarios ?? []) if (!known.includes(s)) throw new BenchArgsError(`unknown scenario "${s}"; known: ${known.join(', ')}`);
  if (values.json === '') throw new BenchArgsError('--json needs a file path');
  return {
    quick: values.quick,
    json: values.json ?? null,
    writeResults: values['write-results'],
    targets: targets as TargetName[],
    scenarios,
    cpuProfDir: values['cpu-prof-dir'] ?? null,
    relayUndici: values['relay-undici'] ?? null,
  };
}

export interface Budget {
  /** Per target, summed over all rounds. */
  maxRequests: number;
  maxMs: number;
}

export interface SsePlan {
  events: number;
  gapMs: number;
  concurrency: number;
  budget: Budget;
}

export type Size = '2 KB' | '300 KB' | '1 MB';

export interface LatencyPlan {
  size: Size;
  bytes: number;
  concurrency: number;
  budget: Budget;
}

export interface Plan {
  rounds: number;
  /** Once per target and scenario, before its first round. */
  warmup: Budget;
  latency: LatencyPlan[];
  /**
   * Two SSE scenarios; budget.maxRequests counts streams. TTFB is measured on single short
   * streams so it is not mixed with relaying other streams' events; per-event delay on
   * concurrent Claude-Code-like streams.
   */
  sseTtfb: SsePlan;
  sseChunks: SsePlan;
  rss: { streams: number; gapMs: number; holdMs: number; idleWaitMs: number };
}

export const KB2 = 2 * 1024;
export const KB300 = 300 * 1024;
export const MB1 = 1024 * 1024;

export function scenarioKey(s: { size: string; concurrency: number }): string {
  return `${s.size.replace(' ', '')}/c${s.concurrency}`;
}

const SIZES: [Size, number][] = [['2 KB', KB2], ['300 KB', KB300], ['1 MB', MB1]];

/**
 * Budgets: the full plan stays under three minutes with five targets on 2 cores; a scenario
 * stops at whichever of its count and time bounds comes first.
 */
export function planFor(quick: boolean): Plan {
  const latency: LatencyPlan[] = [];
  for (const [size, bytes] of SIZES) {
    for (const concurrency of [1, 10, 100]) {
      const maxRequests = quick ? 200 : bytes === KB2 ? 20_000 : 4_000;
      latency.push({ size, bytes, concurrency, budget: { maxRequests, maxMs: quick ? 150 : 2_400 } });
    }
  }
  if (quick) {
    return {
      rounds: 2,
      warmup: { maxRequests: 50, maxMs: 100 },
      latency,
      sseTtfb: { events: 6, gapMs: 1, concurrency: 1, budget: { maxRequests: 30, maxMs: 300 } },
      sseChunks: { events: 20, gapMs: 10, concurrency: 10, budget: { maxRequests: 20, maxMs: 600 } },
      rss: { streams: 100, gapMs: 1_000, holdMs: 500, idleWaitMs: 200 },
    };
  }
  return {
    rounds: 3,
    warmup: { maxRequests: 300, maxMs: 250 },
    latency,
    sseTtfb: { events: 6, gapMs: 1, concurrency: 1, budget: { maxRequests: 300, maxMs: 1_500 } },
    sseChunks: { events: 20, gapMs: 10, concurrency: 10, budget: { maxRequests: 120, maxMs: 2_700 } },
    rss: { streams: 100, gapMs: 1_000, holdMs: 2_000, idleWaitMs: 500 },
  };
}
