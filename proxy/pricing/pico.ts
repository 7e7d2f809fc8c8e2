// Pico-dollars (10^-12 USD, the ledger's integer money unit) to USD. Its own module, with no
// imports, so readers of the ledger (`sluice statusline`, which Claude Code runs on every render)
// need not load the price table and its schema library.
export const PICO_PER_USD = 1_000_000_000_000;
const PICO_PER_USD_BIG = 1_000_000_000_000n;

/** Pico-dollars to USD; exact to the nearest double. */
export function picoToUsd(pico: number | bigint): number {
  if (typeof pico === 'number') return pico / PICO_PER_USD;
  // Split so the whole-dollar part stays exact beyond 2^53 pico (about $9,007).
  const whole = pico / PICO_PER_USD_BIG;
  const rest = pico % PICO_PER_USD_BIG;
  return Number(whole) + Number(rest) / PICO_PER_USD;
}
