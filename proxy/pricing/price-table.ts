// The price table's shape and its validation: what prices.json (and a user's overrides) may say.
// Pure data checks with zod; must not import the store, the pipeline or anything outside pricing/.
import { z } from 'zod';

/** Token prices of one tier, in USD per million tokens. */
export interface TokenPrices {
  input: number;
  output: number;
  /** 5-minute cache write (Anthropic: 1.25x input). */
  cacheWrite5m: number;
  /** 1-hour cache write (Anthropic: 2x input). */
  cacheWrite1h: number;
  /** Cache hit / refresh (Anthropic: 0.1x input on most models, lower on some newer ones). */
  cacheRead: number;
}

/**
 * The higher tier a request falls into when its whole prompt (input + cache writes + cache reads)
 * is above `thresholdInputTokens`: then every token of that request, output included, is priced
 * here (Sonnet 4 / 4.5 with the 1M beta above 200k; Haiku 5.5 above 100k).
 */
export interface LongContextPrices extends TokenPrices {
  thresholdInputTokens: number;
}

export interface PriceEntry extends TokenPrices {
  /** Who sells it: "anthropic", "openai", ... */
  family: string;
  /** Other ids that name exactly this model at exactly these prices (undated alias, `-latest`). */
  aliases: string[];
  longContext?: LongContextPrices;
  /** USD per 1,000 server-side web search requests. */
  webSearchPer1k?: number;
  /** Why a price departs from the family's usual rule, or where it was confirmed. */
  note?: string;
}

export interface PriceTable {
  /** ISO date (YYYY-MM-DD) the prices were last checked. */
  updated: string;
  source: string;
  currency: 'USD';
  unit: 'per_million_tokens';
  models: Record<string, PriceEntry>;
}

/** A user's override: any subset of an entry; `longContext: null` removes a tier. */
export type PriceOverride = Partial<Omit<PriceEntry, 'longContext'>> & {
  longContext?: Partial<LongContextPrices> | null;
};

export type PriceOverrides = Record<string, PriceOverride>;

/** Thrown when a price table or an override set is malformed; lists every problem found. */
export class PriceTableError extends Error {
  readonly problems: string[];
  constructor(what: string, problems: string[]) {
    super(`${what} is invalid:\n- ${problems.join('\n- ')}`);
    this.name = 'PriceTableError';
    this.problems = problems;
  }
}

// Prices are converted to integer pico-dollars per token (x 10^6), so more than 6 decimals per
// million tokens cannot be represented exactly; rejecting them keeps every cost exact.
const price = z
  .number()
  .finite()
  .nonnegative()
  .refine((n) => Math.abs(n * 1e6 - Math.round(n * 1e6)) < 1e-6, {
    message: 'has more than 6 decimals per million tokens',
  });

const tokenPricesShape = {
  input: price,
  output: price,
  cacheWrite5m: price,
  cacheWrite1h: price,
  cacheRead: price,
};

const longContextSchema = z
  .object({ ...tokenPricesShape, thresholdInputTokens: z.number().int().positive() })
  .strict();

const modelIdSchema = z.string().min(1).max(200);

const entrySchema = z
  .object({
    ...tokenPricesShape,
    family: z.string().min(1),
    aliases: z.array(modelIdSchema),
    longContext: longContextSchema.optional(),
    webSearchPer1k: price.optional(),
    note: z.string().optional(),
  })
  .strict();

const tableSchema = z
  .object({
    updated: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be an ISO date YYYY-MM-DD'),
    source: z.string().min(1),
    currency: z.literal('USD'),
    unit: z.literal('per_million_tokens'),
    models: z.record(modelIdSchema, entrySchema),
  })
  .strict();

const overrideSchema = z
  .object({
    ...Object.fromEntries(Object.entries(tokenPricesShape).map(([k, v]) => [k, v.optional()])),
    family: z.string().min(1).optional(),
    aliases: z.array(modelIdSchema).optional(),
    longContext: longContextSchema.partial().nullable().optional(),
    webSearchPer1k: price.optional(),
    note: z.string().optional(),
  })
  .strict();

const overridesSchema = z.record(modelIdSchema, overrideSchema);

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string[] {
  // path segments may be symbols in zod's types; String() keeps them printable.
  return issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
}

/**
 * Validates a parsed prices.json. Beyond the shape, ids must be unique across canonical ids and
 * aliases (one id must never resolve to two prices). Throws PriceTableError listing every problem.
 */
export function parsePriceTable(data: unknown): PriceTable {
  const parsed = tableSchema.safeParse(data);
  if (!parsed.success) throw new PriceTableError('Price table', describeIssues(parsed.error.issues));
  const table = parsed.data as PriceTable;
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const [id, entry] of Object.entries(table.models)) {
    for (const name of [id, ...entry.aliases]) {
      const key = name.toLowerCase();
      const prev = owner.get(key);
      if (prev !== undefined) {
        problems.push(`models.${id}: id "${name}" is already used by "${prev}"`);
      } else {
        owner.set(key, id);
      }
    }
  }
  if (problems.length) throw new PriceTableError('Price table', problems);
  return table;
}

/** Validates user price overrides (from settings). Throws PriceTableError listing every problem. */
export function parsePriceOverrides(data: unknown): PriceOverrides {
  const parsed = overridesSchema.safeParse(data ?? {});
  if (!parsed.success) throw new PriceTableError('Price overrides', describeIssues(parsed.error.issues));
  return parsed.data as PriceOverrides;
}
