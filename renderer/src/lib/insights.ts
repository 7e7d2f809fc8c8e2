// Shaping the insights report for the page: cache positions in words, the 30-day curve per model
// (the top models, the rest as one line), the heat map's scale. Pure; numbers are formatted by
// the page through format.ts.
import { fillDays } from './charts.js';

/** `tools`, `system`, `messages[3]` as a person reads them. */
export function positionLabel(position: string): string {
  if (position === 'tools') return 'tool definitions';
  if (position === 'system') return 'tools + system prompt';
  const m = /^messages\[(\d+)\]$/.exec(position);
  return m ? `through message ${Number(m[1]) + 1}` : position;
}

export interface ModelSeries {
  model: string;
  /** The model id, or '' for the line that sums every other model. */
  others: boolean;
  total: number;
  points: { day: string; value: number }[];
}

export const OTHERS = 'Other models';

/** One line per model (the `top` by 30-day spend), the rest summed into one, each over every day. */
export function modelSeries(daily: readonly { day: string; model: string; usd: number }[], since: string, until: string, top = 5): ModelSeries[] {
  const totals = new Map<string, number>();
  for (const d of daily) if (d.day >= since && d.day <= until) totals.set(d.model, (totals.get(d.model) ?? 0) + d.usd);
  const ranked = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const kept = new Set(ranked.slice(0, ranked.length > top + 1 ? top : top + 1).map(([m]) => m));
  const per = new Map<string, Map<string, number>>();
  for (const d of daily) {
    if (d.day < since || d.day > until) continue;
    const key = kept.has(d.model) ? d.model : OTHERS;
    let m = per.get(key);
    if (!m) per.set(key, (m = new Map()));
    m.set(d.day, (m.get(d.day) ?? 0) + d.usd);
  }
  const out: ModelSeries[] = ranked.filter(([m]) => kept.has(m)).map(([model, total]) => ({ model, others: false, total, points: fillDays(since, until, per.get(model)!) }));
  const rest = per.get(OTHERS);
  if (rest) out.push({ model: OTHERS, others: true, total: [...rest.values()].reduce((a, b) => a + b, 0), points: fillDays(since, until, rest) });
  return out;
}

/** 0..1 shade of a heat-map cell; a cell with any spend is visible (at least 0.08). */
export function heatShade(usd: number, max: number): number {
  if (!(usd > 0) || !(max > 0)) return 0;
  return Math.max(0.08, Math.min(1, usd / max));
}
