// Command-line options of the gateway benchmark and the per-scenario budgets they select.
// Pure: parses an argv array, never reads process state.
import { parseArgs } from 'node:util';

export const VARIANTS = ['default', 'no-metering'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface BenchArgs {
  quick: boolean;
  json: string | null;
  writeResults: boolean;
  variants: Variant[];
  /** Directory for the gateway child's --cpu-prof output; null for none. */
  cpuProfDir: string | null;
}

export class BenchArgsError extends Error {}

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
        variants: { type: 'string', default: 'default' },
        'cpu-prof-dir': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new BenchArgsError((err as Error).message);
  }
  const variants = values.variants.split(',').map((v) => v.trim()).filter(Boolean);
  if (variants.length === 0) throw new BenchArgsError('--variants needs at least one of: default, no-metering');
  for (const v of variants) {
    if (!(VARIANTS as readonly string[]).includes(v)) throw new BenchArgsError(`unknown variant "${v}"; known: ${VARIANTS.join(', ')}`);
  }
  if (new Set(variants).size !== variants.length) throw new BenchArgsError('--variants lists a variant twice');
  if (values.json === '') throw new BenchArgsError('--json needs a file path');
  return {
    quick: values.quick,
    json: values.json ?? null,
    writeResults: values['write-results'],
    variants: variants as Variant[],
    cpuProfDir: values['cpu-prof-dir'] ?? null,
  };
}

export interface Budget {
  /** Per target (direct, gateway), summed over all rounds. */
  maxRequests: number;
  maxMs: number;
}

export interface SsePlan {
  events: number;
  gapMs: number;
  concurrency: number;
  budget: Budget;
}

export interface Plan {
  rounds: number;
  warmup: Budget;
  latency: { size: '2 KB' | '1 MB'; bytes: number; concurrency: number; budget: Budget }[];
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
export const MB1 = 1024 * 1024;

/**
 * Budgets: the full plan stays under about two minutes per variant on 2 cores; a scenario
 * stops at whichever of its count and time bounds comes first.
 */
export function planFor(quick: boolean): Plan {
  if (quick) {
    return {
      rounds: 2,
      warmup: { maxRequests: 50, maxMs: 150 },
      latency: [
        { size: '2 KB', bytes: KB2, concurrency: 1, budget: { maxRequests: 200, maxMs: 400 } },
        { size: '2 KB', bytes: KB2, concurrency: 10, budget: { maxRequests: 1_000, maxMs: 400 } },
        { size: '2 KB', bytes: KB2, concurrency: 100, budget: { maxRequests: 1_000, maxMs: 400 } },
        { size: '1 MB', bytes: MB1, concurrency: 1, budget: { maxRequests: 40, maxMs: 400 } },
        { size: '1 MB', bytes: MB1, concurrency: 100, budget: { maxRequests: 200, maxMs: 600 } },
      ],
      sseTtfb: { events: 6, gapMs: 1, concurrency: 1, budget: { maxRequests: 30, maxMs: 400 } },
      sseChunks: { events: 20, gapMs: 10, concurrency: 10, budget: { maxRequests: 20, maxMs: 800 } },
      rss: { streams: 100, gapMs: 1_000, holdMs: 500, idleWaitMs: 200 },
    };
  }
  return {
    rounds: 4,
    warmup: { maxRequests: 300, maxMs: 500 },
    latency: [
      { size: '2 KB', bytes: KB2, concurrency: 1, budget: { maxRequests: 5_000, maxMs: 8_000 } },
      { size: '2 KB', bytes: KB2, concurrency: 10, budget: { maxRequests: 30_000, maxMs: 6_000 } },
      { size: '2 KB', bytes: KB2, concurrency: 100, budget: { maxRequests: 40_000, maxMs: 8_000 } },
      { size: '1 MB', bytes: MB1, concurrency: 1, budget: { maxRequests: 800, maxMs: 8_000 } },
      { size: '1 MB', bytes: MB1, concurrency: 100, budget: { maxRequests: 2_000, maxMs: 12_000 } },
    ],
    sseTtfb: { events: 6, gapMs: 1, concurrency: 1, budget: { maxRequests: 400, maxMs: 5_000 } },
    sseChunks: { events: 20, gapMs: 10, concurrency: 10, budget: { maxRequests: 300, maxMs: 10_000 } },
    rss: { streams: 100, gapMs: 1_000, holdMs: 3_000, idleWaitMs: 1_000 },
  };
}
