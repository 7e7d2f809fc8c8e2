// Refreshes proxy/pricing/prices.json from a LiteLLM model_prices_and_context_window.json: takes
// the first-party Anthropic entries, rejects any whose cache prices contradict their input price,
// and writes the table atomically. Imports only pricing/ and the atomic writer, never the gateway.
//
//   node --import tsx scripts/refresh-prices.ts <litellm.json> [--out proxy/pricing/prices.json] [--dry-run]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileIfExists, writeFileAtomic } from '../proxy/store/atomic-file.js';
import {
  createPriceBook,
  parsePriceTable,
  type LongContextPrices,
  type PriceEntry,
  type PriceTable,
  type TokenPrices,
} from '../proxy/pricing/index.js';

/** The LiteLLM fields this script reads (USD per token unless noted). */
export interface LiteLlmEntry {
  litellm_provider?: string;
  mode?: string;
  input_cost_per_token?: number;
  output_cost_per_token?: number;
  cache_creation_input_token_cost?: number;
  cache_creation_input_token_cost_above_1hr?: number;
  cache_read_input_token_cost?: number;
  input_cost_per_token_above_200k_tokens?: number;
  output_cost_per_token_above_200k_tokens?: number;
  cache_creation_input_token_cost_above_200k_tokens?: number;
  cache_creation_input_token_cost_above_1hr_above_200k_tokens?: number;
  cache_read_input_token_cost_above_200k_tokens?: number;
  /** USD per web search request, by search context size. */
  search_context_cost_per_query?: Record<string, number>;
}

/** Prices converted to the table's unit (USD per million tokens). */
export interface ConvertedPrices extends TokenPrices {
  longContext?: LongContextPrices;
  webSearchPer1k?: number;
}

export type EntryVerdict =
  | { ok: true; prices: ConvertedPrices; derived: string[] }
  | { ok: false; reason: string };

// Anthropic's published rule: 5-minute write 1.25x input, 1-hour write 2x, read 0.1x.
const MULTIPLIERS = { cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 } as const;
// LiteLLM stores USD per token as floats (3.75e-06 x 10^6 = 3.7499999999999996); the tolerance
// absorbs that noise and nothing a price list would actually say.
const RELATIVE_TOLERANCE = 1e-6;
const LONG_CONTEXT_THRESHOLD = 200_000;
const FIELDS = ['input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead'] as const;

function perMillion(usdPerToken: number): number {
  return Math.round(usdPerToken * 1e12) / 1e6;
}

function isPrice(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function near(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-9 + RELATIVE_TOLERANCE * Math.abs(expected);
}

function fmt(n: number): string {
  return `$${Number(n.toPrecision(12))}/MTok`;
}

/**
 * Converts and checks one tier's prices. `label` prefixes messages ("" or "above 200k: ").
 * A missing 1-hour price is derived as 2x input; any present cache price that is not its
 * multiple of input rejects the entry.
 */
function checkTier(
  label: string,
  raw: { input: unknown; output: unknown; cacheWrite5m: unknown; cacheWrite1h: unknown; cacheRead: unknown },
  derived: string[],
  deriveMissingWrites: boolean,
): TokenPrices | string {
  if (!isPrice(raw.input)) return `${label}input price missing or not a non-negative number`;
  if (!isPrice(raw.output)) return `${label}output price missing or not a non-negative number`;
  const input = perMillion(raw.input);
  const out: TokenPrices = { input, output: perMillion(raw.output), cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 };
  for (const field of ['cacheWrite5m', 'cacheWrite1h', 'cacheRead'] as const) {
    const expected = Math.round(input * MULTIPLIERS[field] * 1e6) / 1e6;
    const value = raw[field];
    if (value === undefined) {
      if (field === 'cacheWrite1h' || deriveMissingWrites) {
        out[field] = expected;
        derived.push(`${label}${field} derived as ${MULTIPLIERS[field]}x input = ${fmt(expected)}`);
        continue;
      }
      return `${label}${field} price missing`;
    }
    if (!isPrice(value)) return `${label}${field} price is not a non-negative number`;
    const actual = perMillion(value);
    if (!near(actual, expected)) {
      return `${label}${field} ${fmt(actual)} contradicts input ${fmt(input)} (expected ${MULTIPLIERS[field]}x = ${fmt(expected)})`;
    }
    out[field] = expected;
  }
  return out;
}

/**
 * Converts one LiteLLM entry to table prices and validates it. Rejects (with the reason) an entry
 * without input/output/5-minute/read prices or whose cache prices contradict its input price;
 * derives a missing 1-hour price as 2x input (and, in the long-context tier, missing cache
 * prices from the long-context input, Anthropic's "multipliers on top" rule).
 */
export function validateLiteLlmEntry(raw: unknown): EntryVerdict {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'not an object' };
  const e = raw as LiteLlmEntry;
  const derived: string[] = [];
  const base = checkTier('', {
    input: e.input_cost_per_token,
    output: e.output_cost_per_token,
    cacheWrite5m: e.cache_creation_input_token_cost,
    cacheWrite1h: e.cache_creation_input_token_cost_above_1hr,
    cacheRead: e.cache_read_input_token_cost,
  }, derived, false);
  if (typeof base === 'string') return { ok: false, reason: base };
  const prices: ConvertedPrices = { ...base };

  const hasLong = [
    e.input_cost_per_token_above_200k_tokens,
    e.output_cost_per_token_above_200k_tokens,
    e.cache_creation_input_token_cost_above_200k_tokens,
    e.cache_creation_input_token_cost_above_1hr_above_200k_tokens,
    e.cache_read_input_token_cost_above_200k_tokens,
  ].some((v) => v !== undefined);
  if (hasLong) {
    const long = checkTier('above 200k: ', {
      input: e.input_cost_per_token_above_200k_tokens,
      output: e.output_cost_per_token_above_200k_tokens,
      cacheWrite5m: e.cache_creation_input_token_cost_above_200k_tokens,
      cacheWrite1h: e.cache_creation_input_token_cost_above_1hr_above_200k_tokens,
      cacheRead: e.cache_read_input_token_cost_above_200k_tokens,
    }, derived, true);
    if (typeof long === 'string') return { ok: false, reason: long };
    prices.longContext = { thresholdInputTokens: LONG_CONTEXT_THRESHOLD, ...long };
  }

  const search = e.search_context_cost_per_query;
  if (search && typeof search === 'object') {
    const values = Object.values(search).filter(isPrice);
    if (values.length > 0) {
      // Anthropic bills a flat price per search; differing sizes would mean it is not ours.
      const first = values[0] as number;
      if (!values.every((v) => near(v, first))) {
        return { ok: false, reason: `search_context_cost_per_query differs by size (${values.join(', ')}); Anthropic bills a flat price` };
      }
      prices.webSearchPer1k = Math.round(first * 1000 * 1e6) / 1e6;
    }
  }
  return { ok: true, prices, derived };
}

export interface FieldChange {
  field: string;
  from: number | null;
  to: number | null;
}

export interface RefreshPlan {
  table: PriceTable;
  added: string[];
  changed: { id: string; changes: FieldChange[] }[];
  unchanged: string[];
  rejected: { key: string; reason: string }[];
  derived: { key: string; notes: string[] }[];
  /** Entries that are not first-party Anthropic (other providers, Bedrock, Vertex). */
  skipped: number;
}

const SNAPSHOT_DATE = /-20\d{6}$/;

function isAnthropicEntry(key: string, raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null) return false;
  const provider = (raw as LiteLlmEntry).litellm_provider;
  const bare = key.startsWith('anthropic/') ? key.slice('anthropic/'.length) : key;
  // Bedrock and Vertex entries carry their own (sometimes regional) prices: first-party only.
  return provider === 'anthropic' && bare.startsWith('claude-') && !bare.includes('/');
}

function samePrices(a: ConvertedPrices, b: ConvertedPrices): boolean {
  return diffPrices(a, b).length === 0;
}

function flatten(p: ConvertedPrices | PriceEntry): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const f of FIELDS) out[f] = p[f];
  out.webSearchPer1k = p.webSearchPer1k ?? null;
  const lc = p.longContext;
  out['longContext.thresholdInputTokens'] = lc?.thresholdInputTokens ?? null;
  for (const f of FIELDS) out[`longContext.${f}`] = lc ? lc[f] : null;
  return out;
}

function diffPrices(from: ConvertedPrices | PriceEntry, to: ConvertedPrices | PriceEntry): FieldChange[] {
  const a = flatten(from);
  const b = flatten(to);
  return Object.keys(b)
    .filter((k) => a[k] !== b[k])
    .map((k) => ({ field: k, from: a[k] ?? null, to: b[k] ?? null }));
}

/**
 * Plans a refresh without touching the disk: which models LiteLLM adds or re-prices, and which of
 * its entries are rejected (with reasons). Existing aliases, families and notes are kept; a
 * long-context tier or web-search price LiteLLM does not state is kept, never dropped (it cannot
 * express e.g. Haiku 5.5's 100k tier). Rejected entries leave the existing table untouched.
 */
export function planRefresh(existing: PriceTable, litellm: unknown, opts: { today: string }): RefreshPlan {
  if (typeof litellm !== 'object' || litellm === null || Array.isArray(litellm)) {
    throw new TypeError('LiteLLM price file must be a JSON object keyed by model id');
  }
  const book = createPriceBook(existing);
  const table: PriceTable = structuredClone(existing);
  const plan: RefreshPlan = { table, added: [], changed: [], unchanged: [], rejected: [], derived: [], skipped: 0 };

  // Group accepted entries by the table model they price (existing canonical id, or a new key).
  const groups = new Map<string, { key: string; prices: ConvertedPrices }[]>();
  const newIds = new Set<string>();
  for (const [key, raw] of Object.entries(litellm as Record<string, unknown>)) {
    if (key === 'sample_spec') continue;
    if (!isAnthropicEntry(key, raw)) {
      plan.skipped++;
      continue;
    }
    const verdict = validateLiteLlmEntry(raw);
    if (!verdict.ok) {
      plan.rejected.push({ key, reason: verdict.reason });
      continue;
    }
    if (verdict.derived.length) plan.derived.push({ key, notes: verdict.derived });
    const bare = key.startsWith('anthropic/') ? key.slice('anthropic/'.length) : key;
    const target = book.lookup(bare)?.id ?? bare;
    if (!(target in existing.models)) newIds.add(target);
    const group = groups.get(target) ?? [];
    group.push({ key, prices: verdict.prices });
    groups.set(target, group);
  }

  // A new undated id whose dated snapshot is also new and priced the same becomes its alias.
  const aliasOf = new Map<string, string>();
  for (const id of newIds) {
    if (!SNAPSHOT_DATE.test(id)) continue;
    const base = id.replace(SNAPSHOT_DATE, '');
    const a = groups.get(id)?.[0]?.prices;
    const b = groups.get(base)?.[0]?.prices;
    if (newIds.has(base) && a && b && samePrices(a, b) && !aliasOf.has(base)) aliasOf.set(base, id);
  }

  for (const [id, group] of groups) {
    const first = group[0] as { key: string; prices: ConvertedPrices };
    const conflict = group.find((g) => !samePrices(g.prices, first.prices));
    if (conflict) {
      for (const g of group) {
        plan.rejected.push({ key: g.key, reason: `disagrees with ${g === first ? conflict.key : first.key} about ${id}` });
      }
      continue;
    }
    const prices = first.prices;
    const current = table.models[id];
    if (current) {
      const next: PriceEntry = { ...current, ...pickTokenPrices(prices) };
      if (prices.longContext) next.longContext = prices.longContext;
      if (prices.webSearchPer1k !== undefined) next.webSearchPer1k = prices.webSearchPer1k;
      const changes = diffPrices(current, next);
      if (changes.length) {
        table.models[id] = next;
        plan.changed.push({ id, changes });
      } else {
        plan.unchanged.push(id);
      }
      continue;
    }
    if (aliasOf.has(id)) continue;
    const aliases = [...aliasOf].filter(([, dated]) => dated === id).map(([base]) => base);
    const entry: PriceEntry = { family: 'anthropic', ...pickTokenPrices(prices), aliases };
    if (prices.longContext) entry.longContext = prices.longContext;
    if (prices.webSearchPer1k !== undefined) entry.webSearchPer1k = prices.webSearchPer1k;
    table.models[id] = entry;
    plan.added.push(id);
  }

  if (plan.added.length || plan.changed.length) {
    table.updated = opts.today;
    const note = 'refreshed from LiteLLM model_prices_and_context_window.json';
    if (!table.source.includes(note)) table.source = `${table.source}; ${note}`;
  }
  // Re-validate: a refresh must never write a table the gateway would refuse to load.
  parsePriceTable(table);
  return plan;
}

function pickTokenPrices(p: TokenPrices): TokenPrices {
  return { input: p.input, output: p.output, cacheWrite5m: p.cacheWrite5m, cacheWrite1h: p.cacheWrite1h, cacheRead: p.cacheRead };
}

/** Human summary of a plan: counts, then every addition, change, derivation and rejection. */
export function formatSummary(plan: RefreshPlan): string {
  const lines = [
    `added ${plan.added.length}, changed ${plan.changed.length}, unchanged ${plan.unchanged.length}, ` +
      `rejected ${plan.rejected.length}, skipped ${plan.skipped} non-Anthropic entries`,
  ];
  for (const id of plan.added) lines.push(`  + ${id}`);
  for (const c of plan.changed) {
    lines.push(`  ~ ${c.id}: ${c.changes.map((x) => `${x.field} ${x.from ?? 'none'} -> ${x.to ?? 'none'}`).join(', ')}`);
  }
  for (const d of plan.derived) lines.push(`  = ${d.key}: ${d.notes.join('; ')}`);
  for (const r of plan.rejected) lines.push(`  ! rejected ${r.key}: ${r.reason}`);
  return lines.join('\n');
}

export interface RunDeps {
  cwd: string;
  now: () => Date;
  log: (line: string) => void;
}

const USAGE = 'usage: node --import tsx scripts/refresh-prices.ts <litellm.json> [--out proxy/pricing/prices.json] [--dry-run]';

/** The CLI: returns the exit code (0 ok, 1 bad input, 2 bad arguments). */
export async function runRefresh(argv: readonly string[], deps: RunDeps): Promise<number> {
  let source: string | undefined;
  let out = 'proxy/pricing/prices.json';
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--dry-run') dryRun = true;
    else if (arg === '--out') {
      const next = argv[++i];
      if (next === undefined) {
        deps.log(`--out needs a path\n${USAGE}`);
        return 2;
      }
      out = next;
    } else if (arg.startsWith('--')) {
      deps.log(`unknown option ${arg}\n${USAGE}`);
      return 2;
    } else if (source === undefined) source = arg;
    else {
      deps.log(`unexpected argument ${arg}\n${USAGE}`);
      return 2;
    }
  }
  if (source === undefined) {
    deps.log(USAGE);
    return 2;
  }
  const sourcePath = resolve(deps.cwd, source);
  const outPath = resolve(deps.cwd, out);
  try {
    const litellmText = await readFileIfExists(sourcePath);
    if (litellmText === null) throw new Error(`${sourcePath} does not exist`);
    const existingText = await readFileIfExists(outPath);
    const today = deps.now().toISOString().slice(0, 10);
    const existing: PriceTable = existingText === null
      ? { updated: today, source: 'LiteLLM model_prices_and_context_window.json', currency: 'USD', unit: 'per_million_tokens', models: {} }
      : parsePriceTable(JSON.parse(existingText));
    const plan = planRefresh(existing, JSON.parse(litellmText), { today });
    deps.log(formatSummary(plan));
    if (dryRun) {
      deps.log('dry run: nothing written');
    } else if (plan.added.length || plan.changed.length || existingText === null) {
      // No .bak beside a file git already versions.
      await writeFileAtomic(outPath, `${JSON.stringify(plan.table, null, 2)}\n`, { backup: false, mode: 0o644 });
      deps.log(`wrote ${outPath}`);
    } else {
      deps.log('no price changes: nothing written');
    }
    return 0;
  } catch (err) {
    deps.log(`refresh failed: ${(err as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runRefresh(process.argv.slice(2), { cwd: process.cwd(), now: () => new Date(), log: (l) => console.log(l) })
    .then((code) => { process.exitCode = code; });
}
