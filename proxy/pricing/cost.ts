// Prices a response's usage: model lookup (with user overrides) and the exact cost of one request.
// Pure: takes the table and overrides as data. Must not import the store, pipeline, meter or fs.
//
// Money is integer arithmetic. A price of P USD per million tokens is P x 10^6 pico-dollars
// (10^-12 USD) per token, an integer for every price with at most 6 decimals (the table schema
// enforces that), so tokens x price is an exact integer of pico-dollars: 1,000,000 Sonnet input
// tokens at the standard rate are exactly 3_000_000_000_000 pico = $3, and summing requests as
// integers never drifts (adding float dollars would: 0.1 + 0.2 !== 0.3).
// `costUsd` is derived once from that integer (for display); ledgers should store and sum
// `costPicoUsd` (see `sumPicoUsd`).
import {
  parsePriceOverrides,
  parsePriceTable,
  PriceTableError,
  type LongContextPrices,
  type PriceEntry,
  type PriceOverride,
  type PriceOverrides,
  type PriceTable,
  type TokenPrices,
} from './price-table.js';
import { candidateIds, globToRegExp, isGlob, normalizeModelId } from './model-id.js';

/** Token usage as Anthropic reports it (Messages API `usage`; streams: the cumulative one). */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: {
    ephemeral_5m_input_tokens?: number | null;
    ephemeral_1h_input_tokens?: number | null;
  } | null;
  server_tool_use?: { web_search_requests?: number | null; web_fetch_requests?: number | null } | null;
  service_tier?: string | null;
}

/** A resolved price: the table entry (after overrides) a model id maps to. */
export interface ModelPrice extends TokenPrices {
  /** Canonical id in the table (or the override key that priced it). */
  id: string;
  family: string;
  aliases: string[];
  longContext?: LongContextPrices;
  webSearchPer1k?: number;
  /** `table`: bundled as is; `override`: a user override changed or created it. */
  source: 'table' | 'override';
}

export type CostTier = 'standard' | 'long_context';

/** USD per part of the bill; null where that part could not be priced. */
export interface CostBreakdown {
  input: number | null;
  output: number | null;
  cacheWrite5m: number | null;
  cacheWrite1h: number | null;
  cacheRead: number | null;
  webSearch: number | null;
}

export interface CostResult {
  /** Total USD; null when anything billed could not be priced (never a silent 0). */
  costUsd: number | null;
  /** Exact total in pico-dollars (10^-12 USD), a safe integer; null when unpriced. */
  costPicoUsd: number | null;
  priced: boolean;
  tier: CostTier;
  breakdown: CostBreakdown;
  /** Canonical id of the price used, null when the model is unknown. */
  model: string | null;
  batch: boolean;
  /** Why `priced` is false. */
  unpricedReason?: 'unknown_model' | 'web_search_unpriced';
}

export interface CostOptions {
  /** Message Batches API: every token price is halved. `service_tier: "batch"` implies it. */
  batch?: boolean;
}

export interface PriceBook {
  lookup(modelId: string): ModelPrice | null;
  cost(modelId: string, usage: Usage, opts?: CostOptions): CostResult;
}

import { PICO_PER_USD, picoToUsd } from './pico.js';
export { PICO_PER_USD, picoToUsd };

// Anthropic's cache multipliers, used only to fill in cache prices an override leaves out when
// it prices a model the table lacks (documented in the override's note).
const CACHE_5M_MULTIPLIER = 1.25;
const CACHE_1H_MULTIPLIER = 2;
const CACHE_READ_MULTIPLIER = 0.1;


/** Sums per-request pico-dollar costs exactly (nulls, i.e. unpriced requests, are skipped). */
export function sumPicoUsd(values: Iterable<number | bigint | null | undefined>): bigint {
  let total = 0n;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'number' && !Number.isSafeInteger(v)) {
      throw new RangeError(`sumPicoUsd: ${v} is not a safe integer of pico-dollars`);
    }
    total += BigInt(v);
  }
  return total;
}

/** USD per million tokens -> integer pico-dollars per token (exact for <= 6 decimals). */
function picoPerToken(usdPerMillion: number): bigint {
  return BigInt(Math.round(usdPerMillion * 1e6));
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** A token count from the usage object: absent/null is 0; anything else must be a count. */
/**
 * How cache-write tokens divide between the 5-minute and 1-hour prices: without the
 * `cache_creation` parts, all of them are 5-minute writes (the default TTL); with them, a
 * shortfall against the total is 5-minute too, and parts above the total win, being the more
 * detailed record. The ledger's token columns use this same rule.
 */
export function splitCacheWrites(created: number, parts: { p5: number; p1: number } | null): { write5m: number; write1h: number } {
  if (!parts) return { write5m: created, write1h: 0 };
  return { write5m: parts.p5 + Math.max(0, created - parts.p5 - parts.p1), write1h: parts.p1 };
}

function count(value: number | null | undefined, field: string): number {
  if (value === undefined || value === null) return 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`usage.${field} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

interface MutableEntry extends PriceEntry {
  source: 'table' | 'override';
}

function cloneEntry(entry: PriceEntry, source: 'table' | 'override'): MutableEntry {
  return {
    ...entry,
    aliases: [...entry.aliases],
    ...(entry.longContext ? { longContext: { ...entry.longContext } } : {}),
    source,
  };
}

function mergeOverride(target: MutableEntry, o: PriceOverride, key: string, problems: string[]): void {
  for (const field of ['input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead', 'webSearchPer1k'] as const) {
    const v = o[field];
    if (v !== undefined) target[field] = v;
  }
  if (o.family !== undefined) target.family = o.family;
  if (o.note !== undefined) target.note = o.note;
  if (o.aliases) for (const a of o.aliases) if (!target.aliases.includes(a)) target.aliases.push(a);
  if (o.longContext === null) {
    delete target.longContext;
  } else if (o.longContext !== undefined) {
    const merged = { ...(target.longContext ?? {}), ...o.longContext };
    const missing = (['thresholdInputTokens', 'input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead'] as const)
      .filter((f) => merged[f] === undefined);
    if (missing.length) {
      problems.push(`${key}: longContext adds a tier but lacks ${missing.join(', ')}`);
    } else {
      target.longContext = merged as LongContextPrices;
    }
  }
  target.source = 'override';
}

/** An entry for a model only an override prices; cache prices default to Anthropic's multipliers. */
function entryFromOverride(key: string, o: PriceOverride, problems: string[]): MutableEntry | null {
  if (o.input === undefined || o.output === undefined) {
    problems.push(`${key}: prices a model the table lacks, so it needs at least input and output`);
    return null;
  }
  const entry: MutableEntry = {
    family: 'custom',
    aliases: [],
    input: o.input,
    output: o.output,
    cacheWrite5m: round6(o.input * CACHE_5M_MULTIPLIER),
    cacheWrite1h: round6(o.input * CACHE_1H_MULTIPLIER),
    cacheRead: round6(o.input * CACHE_READ_MULTIPLIER),
    source: 'override',
  };
  mergeOverride(entry, o, key, problems);
  return entry;
}

function toModelPrice(id: string, e: MutableEntry): ModelPrice {
  const out: ModelPrice = {
    id,
    family: e.family,
    aliases: [...e.aliases],
    input: e.input,
    output: e.output,
    cacheWrite5m: e.cacheWrite5m,
    cacheWrite1h: e.cacheWrite1h,
    cacheRead: e.cacheRead,
    source: e.source,
  };
  if (e.longContext) out.longContext = { ...e.longContext };
  if (e.webSearchPer1k !== undefined) out.webSearchPer1k = e.webSearchPer1k;
  return out;
}

/**
 * Builds a price book from the bundled table and a user's overrides (settings).
 *
 * Overrides are keyed by a model id or a glob (`claude-opus-*`). Globs apply first, in their
 * order, to every table model whose id or alias they match; exact keys apply last, so the most
 * specific override wins. An exact key the table does not know prices a new model; a glob with
 * input and output also prices unknown ids it matches. Throws PriceTableError on bad input.
 *
 * @example
 * const book = createPriceBook(await loadBundledPrices(), { 'claude-opus-4-8': { input: 4 } });
 * book.cost('claude-sonnet-4-6', { input_tokens: 1_000_000, output_tokens: 0 }).costUsd; // 3
 */
export function createPriceBook(table: PriceTable, overrides: PriceOverrides = {}): PriceBook {
  const checked = parsePriceTable(table);
  const checkedOverrides = parsePriceOverrides(overrides);
  const entries = new Map<string, MutableEntry>();
  const index = new Map<string, string>();
  const addToIndex = (name: string, canonical: string) => {
    for (const c of candidateIds(name)) if (!index.has(c)) index.set(c, canonical);
  };
  for (const [id, entry] of Object.entries(checked.models)) entries.set(id, cloneEntry(entry, 'table'));
  // Exact spellings first so a normalized form never shadows a real id.
  for (const [id, entry] of entries) {
    index.set(id.toLowerCase(), id);
    for (const a of entry.aliases) index.set(a.toLowerCase(), id);
  }
  for (const [id, entry] of entries) {
    addToIndex(id, id);
    for (const a of entry.aliases) addToIndex(a, id);
  }

  const resolve = (modelId: string): string | null => {
    for (const c of candidateIds(modelId)) {
      const hit = index.get(c);
      if (hit !== undefined) return hit;
    }
    return null;
  };

  const problems: string[] = [];
  const globs: { pattern: RegExp; key: string; override: PriceOverride }[] = [];
  const keys = Object.keys(checkedOverrides);
  for (const key of keys.filter(isGlob)) {
    const override = checkedOverrides[key] as PriceOverride;
    const pattern = globToRegExp(key);
    globs.push({ pattern, key, override });
    for (const [id, entry] of entries) {
      const names = [id, ...entry.aliases].flatMap((n) => candidateIds(n));
      if (names.some((n) => pattern.test(n))) mergeOverride(entry, override, key, problems);
    }
  }
  for (const key of keys.filter((k) => !isGlob(k))) {
    const override = checkedOverrides[key] as PriceOverride;
    const hit = resolve(key);
    if (hit !== null) {
      mergeOverride(entries.get(hit) as MutableEntry, override, key, problems);
      continue;
    }
    const created = entryFromOverride(key, override, problems);
    if (created) {
      const id = normalizeModelId(key);
      entries.set(id, created);
      index.set(key.trim().toLowerCase(), id);
      addToIndex(key, id);
      for (const a of created.aliases) addToIndex(a, id);
    }
  }
  if (problems.length) throw new PriceTableError('Price overrides', problems);
  // Aliases an override added; an id already taken keeps its first owner.
  for (const [id, entry] of entries) for (const a of entry.aliases) addToIndex(a, id);

  // Unknown ids a glob prices are resolved on demand; results are cached per book.
  const globCache = new Map<string, ModelPrice | null>();
  const lookupGlob = (modelId: string): ModelPrice | null => {
    const cands = candidateIds(modelId);
    const cacheKey = cands[0] ?? '';
    if (globCache.has(cacheKey)) return globCache.get(cacheKey) ?? null;
    let found: ModelPrice | null = null;
    for (let i = globs.length - 1; i >= 0 && !found; i--) {
      const g = globs[i] as (typeof globs)[number];
      if (g.override.input === undefined || g.override.output === undefined) continue;
      if (!cands.some((c) => g.pattern.test(c))) continue;
      const entry = entryFromOverride(g.key, g.override, []);
      if (entry) found = toModelPrice(cands[1] ?? cacheKey, entry);
    }
    globCache.set(cacheKey, found);
    return found;
  };

  // Every metered response looks its model up; the candidate spellings cost more than the
  // rest of the costing, and a gateway sees a handful of model ids. Bounded for odd clients.
  const resolved = new Map<string, string | null>();
  const resolveCached = (modelId: string): string | null => {
    let hit = resolved.get(modelId);
    if (hit === undefined) {
      hit = resolve(modelId);
      if (resolved.size >= 1024) resolved.clear();
      resolved.set(modelId, hit);
    }
    return hit;
  };

  const lookup = (modelId: string): ModelPrice | null => {
    if (typeof modelId !== 'string' || modelId.trim() === '') return null;
    const hit = resolveCached(modelId);
    if (hit !== null) return toModelPrice(hit, entries.get(hit) as MutableEntry);
    return lookupGlob(modelId);
  };

  const cost = (modelId: string, usage: Usage, opts: CostOptions = {}): CostResult => {
    const input = count(usage.input_tokens, 'input_tokens');
    const output = count(usage.output_tokens, 'output_tokens');
    const read = count(usage.cache_read_input_tokens, 'cache_read_input_tokens');
    const created = count(usage.cache_creation_input_tokens, 'cache_creation_input_tokens');
    const { write5m, write1h } = splitCacheWrites(created, usage.cache_creation
      ? {
        p5: count(usage.cache_creation.ephemeral_5m_input_tokens, 'cache_creation.ephemeral_5m_input_tokens'),
        p1: count(usage.cache_creation.ephemeral_1h_input_tokens, 'cache_creation.ephemeral_1h_input_tokens'),
      }
      : null);
    const webSearches = count(usage.server_tool_use?.web_search_requests, 'server_tool_use.web_search_requests');
    const batch = opts.batch === true || usage.service_tier === 'batch';

    const price = lookup(modelId);
    if (!price) {
      return {
        costUsd: null,
        costPicoUsd: null,
        priced: false,
        tier: 'standard',
        breakdown: { input: null, output: null, cacheWrite5m: null, cacheWrite1h: null, cacheRead: null, webSearch: null },
        model: null,
        batch,
        unpricedReason: 'unknown_model',
      };
    }

    // The tier is decided by the whole prompt, cache included, and then applies to every token
    // of the request, output too (Anthropic's long-context rule).
    const promptTokens = input + write5m + write1h + read;
    const lc = price.longContext;
    const tier: CostTier = lc && promptTokens > lc.thresholdInputTokens ? 'long_context' : 'standard';
    const rates: TokenPrices = tier === 'long_context' && lc ? lc : price;
    // Batch halves each per-token price; every published price is a multiple of 1,000 pico per
    // token, so this is exact (an odd override price rounds up by half a pico-dollar per token).
    const rate = (usdPerMillion: number): bigint => {
      const p = picoPerToken(usdPerMillion);
      return batch ? (p + 1n) / 2n : p;
    };
    const parts = {
      input: BigInt(input) * rate(rates.input),
      output: BigInt(output) * rate(rates.output),
      cacheWrite5m: BigInt(write5m) * rate(rates.cacheWrite5m),
      cacheWrite1h: BigInt(write1h) * rate(rates.cacheWrite1h),
      cacheRead: BigInt(read) * rate(rates.cacheRead),
    };
    let webSearch: bigint | null = 0n;
    if (webSearches > 0) {
      // Per 1,000 requests in USD -> per request in pico: x 10^12 / 10^3. Not a token price, so
      // the batch discount does not apply.
      webSearch = price.webSearchPer1k === undefined
        ? null
        : BigInt(webSearches) * BigInt(Math.round(price.webSearchPer1k * 1e9));
    }
    const breakdown: CostBreakdown = {
      input: picoToUsd(parts.input),
      output: picoToUsd(parts.output),
      cacheWrite5m: picoToUsd(parts.cacheWrite5m),
      cacheWrite1h: picoToUsd(parts.cacheWrite1h),
      cacheRead: picoToUsd(parts.cacheRead),
      webSearch: webSearch === null ? null : picoToUsd(webSearch),
    };
    if (webSearch === null) {
      return { costUsd: null, costPicoUsd: null, priced: false, tier, breakdown, model: price.id, batch, unpricedReason: 'web_search_unpriced' };
    }
    const total = parts.input + parts.output + parts.cacheWrite5m + parts.cacheWrite1h + parts.cacheRead + webSearch;
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
      // More than ~$9,007 for one request: not a real bill; refuse rather than round.
      throw new RangeError(`cost of one request exceeds the exact range (${total} pico-dollars)`);
    }
    return {
      costUsd: picoToUsd(total),
      costPicoUsd: Number(total),
      priced: true,
      tier,
      breakdown,
      model: price.id,
      batch,
    };
  };

  return { lookup, cost };
}
