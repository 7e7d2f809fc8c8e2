// Geometry for the plain-SVG charts: a "nice" axis maximum, its ticks, and bar rectangles.
// Pure numbers in, numbers out; the Svelte components only draw them.

/** The smallest 1/2/2.5/5 x 10^n at or above `v` (0 stays 0 so an empty chart has an axis of 1). */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const exp = Math.floor(Math.log10(v));
  const base = 10 ** exp;
  for (const m of [1, 2, 2.5, 5, 10]) {
    const c = m * base;
    if (c >= v * (1 - 1e-12)) return Number(c.toPrecision(12));
  }
  return 10 * base;
}

/** `count` + 1 evenly spaced ticks from 0 to `max`. */
export function ticks(max: number, count = 4): number[] {
  return Array.from({ length: count + 1 }, (_, i) => Number(((max * i) / count).toPrecision(12)));
}

export interface Bar { x: number; y: number; width: number; height: number }

/** Vertical bars for `values` in a `width` x `height` plot, `gap` as a fraction of a slot. */
export function layoutBars(values: readonly number[], width: number, height: number, max: number, gap = 0.25): Bar[] {
  if (values.length === 0) return [];
  const slot = width / values.length;
  const w = Math.max(1, slot * (1 - gap));
  return values.map((v, i) => {
    const h = max > 0 ? Math.max(0, (Math.max(0, v) / max) * height) : 0;
    return { x: i * slot + (slot - w) / 2, y: height - h, width: w, height: h };
  });
}

/** Every day from `since` to `until` ('YYYY-MM-DD', both included) with the value of that day or 0. */
export function fillDays(since: string, until: string, values: ReadonlyMap<string, number>): { day: string; value: number }[] {
  const out: { day: string; value: number }[] = [];
  const [y, m, d] = since.split('-').map(Number);
  const cur = new Date(Date.UTC(y!, m! - 1, d!));
  for (let i = 0; i < 3660; i++) {
    const day = cur.toISOString().slice(0, 10);
    if (day > until) break;
    out.push({ day, value: values.get(day) ?? 0 });
    cur.setUTCDate(cur.getUTCDate() + 1);
  }
  return out;
}
