// Public surface of pricing: the bundled price table and the price book that turns usage into
// exact USD. Reads only its own prices.json; must not import the pipeline, meter or admin.
import { fileURLToPath } from 'node:url';
import { readFileIfExists } from '../store/atomic-file.js';
import { parsePriceTable, PriceTableError, type PriceTable } from './price-table.js';

export {
  createPriceBook,
  picoToUsd,
  sumPicoUsd,
  splitCacheWrites,
  PICO_PER_USD,
  type CostBreakdown,
  type CostOptions,
  type CostResult,
  type CostTier,
  type ModelPrice,
  type PriceBook,
  type Usage,
} from './cost.js';
export {
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
export { candidateIds, normalizeModelId } from './model-id.js';

// tsc does not copy JSON into dist/, so the compiled module (dist/proxy/pricing/index.js) reads
// the source copy three levels up; under tsx the file sits beside this module.
const BUNDLED_CANDIDATES = [
  new URL('./prices.json', import.meta.url),
  new URL('../../../proxy/pricing/prices.json', import.meta.url),
];

/**
 * Reads and validates the price table shipped with Sluice. `candidates` exists for tests;
 * the first file that exists wins. Throws PriceTableError when none exists or it is invalid.
 */
export async function loadBundledPrices(candidates: readonly URL[] = BUNDLED_CANDIDATES): Promise<PriceTable> {
  for (const url of candidates) {
    const path = fileURLToPath(url);
    const text = await readFileIfExists(path);
    if (text === null) continue;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new PriceTableError(`Price table ${path}`, [`not valid JSON: ${(err as Error).message}`]);
    }
    return parsePriceTable(data);
  }
  throw new PriceTableError('Bundled price table', [
    `prices.json not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`,
  ]);
}
