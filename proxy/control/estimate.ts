// Worst-case cost and token estimates made before a request is forwarded (budget reservations,
// tokens-per-minute admission) and the prompt-cache savings shown afterwards. Pure over the price
// book; imports pricing only.
import type { ModelPrice, PriceBook, PriceTable } from '../pricing/index.js';

/**
 * Input tokens from body size. Claude's tokenizer averages about 4 bytes per token on English
 * and code; 3.5 deliberately over-estimates so reservations err high. (Dense non-Latin text or
 * odd byte sequences can exceed it; that is the bounded error the budget docs state.)
 */
export const BYTES_PER_TOKEN_ESTIMATE = 3.5;
/** When a Messages body names no max_tokens (the API will refuse it anyway). */
export const DEFAULT_MAX_TOKENS = 4096;

export function estimateInputTokens(bodyBytes: number): number {
  return Math.ceil(bodyBytes / BYTES_PER_TOKEN_ESTIMATE);
}

const picoPerToken = (usdPerMillion: number) => Math.round(usdPerMillion * 1e6);

/** The most expensive rates in the table: what an unpriced model is reserved at. */
export function worstCasePrice(table: PriceTable): ModelPrice {
  const all = Object.values(table.models);
  const max = (f: (m: (typeof all)[number]) => number) => Math.max(0, ...all.map(f));
  return {
    id: '(unpriced)', family: 'unknown', aliases: [], source: 'table',
    input: max((m) => m.input), output: max((m) => m.output), cacheWrite5m: max((m) => m.cacheWrite5m),
    cacheWrite1h: max((m) => m.cacheWrite1h), cacheRead: max((m) => m.cacheRead),
  };
}

export interface CostEstimate {
  inputTokens: number;
  outputTokens: number;
  pico: number;
  /** Canonical model id used, or `(unpriced)`. */
  pricedAs: string;
}

/**
 * Worst case of one Messages request: every estimated input token at the dearest input-side
 * rate that can apply (a 5-minute cache write, or a 1-hour write when the body asks for one;
 * the long-context tier when the estimate passes its threshold), plus max_tokens of output.
 */
export function estimateCost(book: PriceBook, fallback: ModelPrice, model: string | null, body: Buffer, maxTokens: number | null): CostEstimate {
  const inputTokens = estimateInputTokens(body.length);
  const outputTokens = maxTokens ?? DEFAULT_MAX_TOKENS;
  const price = (model && book.lookup(model)) || fallback;
  const lc = price.longContext;
  const rates = lc && inputTokens > lc.thresholdInputTokens ? lc : price;
  const oneHour = body.includes('"1h"');
  const inRate = Math.max(rates.input, rates.cacheWrite5m, oneHour ? rates.cacheWrite1h : 0);
  return { inputTokens, outputTokens, pico: inputTokens * picoPerToken(inRate) + outputTokens * picoPerToken(rates.output), pricedAs: price.id };
}

export interface SavingsRow {
  model: string;
  cacheReadTokens: number;
  /** USD saved against paying the input price for those tokens; null when the model is unpriced. */
  savedUsd: number | null;
}

/** Saved = cache-read tokens x (input price - cache-read price). */
export function cacheSavings(book: PriceBook, rows: readonly { model: string; cacheReadTokens: number }[]): { rows: SavingsRow[]; totalUsd: number; unpricedModels: string[] } {
  let totalPico = 0;
  const unpriced: string[] = [];
  const out = rows.filter((r) => r.cacheReadTokens > 0).map((r) => {
    const p = r.model ? book.lookup(r.model) : null;
    if (!p) { unpriced.push(r.model); return { model: r.model, cacheReadTokens: r.cacheReadTokens, savedUsd: null }; }
    const pico = r.cacheReadTokens * (picoPerToken(p.input) - picoPerToken(p.cacheRead));
    totalPico += pico;
    return { model: r.model, cacheReadTokens: r.cacheReadTokens, savedUsd: pico / 1e12 };
  });
  return { rows: out, totalUsd: totalPico / 1e12, unpricedModels: unpriced };
}
