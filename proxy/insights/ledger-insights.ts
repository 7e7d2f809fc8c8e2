// Insights from ledger metadata: latency per model and provider (time to first byte and total,
// p50/p90/p99 and a histogram, first-try requests apart from retried ones), spend by hour of day
// x weekday and per day and model over 30 days, and tool-use turns per tool and session (turns
// that ended in tool_use, their share, the longest run of them). Pure over the rows.
import type { RequestRecord } from '../ledger/types.js';

export interface Dist { n: number; p50: number | null; p90: number | null; p99: number | null }
export interface LatencyRow {
  model: string;
  provider: string;
  /** Requests answered on the first attempt. */
  ttfb: Dist;
  total: Dist;
  /** Requests that needed more than one upstream attempt (their own distribution). */
  retried: { n: number; total: Dist };
  /** Counts of first-try total durations per bucket: upper bounds in ms (the last is open). */
  histogram: { leMs: number | null; count: number }[];
}
export interface ToolTurns { tool: string; session: string | null; turns: number; toolUseTurns: number; share: number; longestLoop: number }
export interface LedgerInsights {
  latency: LatencyRow[];
  /** [weekday 0=Sunday][hour] local USD. */
  heat: number[][];
  daily: { day: string; model: string; usd: number }[];
  tools: ToolTurns[];
}

export const HIST_BOUNDS = [250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000];

function pct(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}
function dist(xs: number[]): Dist {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 0.5), p90: pct(s, 0.9), p99: pct(s, 0.99) };
}

/** `tzOffsetMin(ts)`: minutes east of UTC at that instant (local hour, weekday and day). */
export function ledgerInsights(rows: readonly RequestRecord[], tzOffsetMin: (ts: number) => number): LedgerInsights {
  const byModel = new Map<string, { model: string; provider: string; ttfb: number[]; total: number[]; retried: number[] }>();
  const heat = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  const daily = new Map<string, number>();
  const sessions = new Map<string, { tool: string; session: string | null; turns: number; toolUse: number; run: number; longest: number }>();
  for (const r of [...rows].sort((a, b) => a.tsStart - b.tsStart)) {
    if (!r.counted || r.endpoint !== 'messages') continue;
    const model = r.servedModel ?? r.requestedModel ?? '';
    const key = `${model}\0${r.provider}`;
    let m = byModel.get(key);
    if (!m) { m = { model, provider: r.provider, ttfb: [], total: [], retried: [] }; byModel.set(key, m); }
    if (r.status !== null && r.status < 400 && r.totalMs !== null) {
      if ((r.attemptsMade ?? 1) > 1) m.retried.push(r.totalMs);
      else { m.total.push(r.totalMs); if (r.ttfbMs !== null) m.ttfb.push(r.ttfbMs); }
    }
    if (r.costUsd !== null && r.costUsd > 0) {
      const local = new Date(r.tsStart + tzOffsetMin(r.tsStart) * 60_000);
      heat[local.getUTCDay()]![local.getUTCHours()]! += r.costUsd;
      const dk = `${local.toISOString().slice(0, 10)}\0${model}`;
      daily.set(dk, (daily.get(dk) ?? 0) + r.costUsd);
    }
    if (r.billed) {
      const sk = `${r.tool}\0${r.sessionId ?? ''}`;
      let s = sessions.get(sk);
      if (!s) { s = { tool: r.tool, session: r.sessionId, turns: 0, toolUse: 0, run: 0, longest: 0 }; sessions.set(sk, s); }
      s.turns++;
      if (r.stopReason === 'tool_use') { s.toolUse++; s.run++; s.longest = Math.max(s.longest, s.run); } else s.run = 0;
    }
  }
  const latency: LatencyRow[] = [...byModel.values()].filter((m) => m.total.length + m.retried.length > 0).map((m) => {
    const histogram = [...HIST_BOUNDS, null].map((leMs, i) => ({
      leMs,
      count: m.total.filter((x) => x <= (leMs ?? Infinity) && (i === 0 || x > HIST_BOUNDS[i - 1]!)).length,
    }));
    return { model: m.model, provider: m.provider, ttfb: dist(m.ttfb), total: dist(m.total), retried: { n: m.retried.length, total: dist(m.retried) }, histogram };
  }).sort((a, b) => b.total.n + b.retried.n - (a.total.n + a.retried.n));
  return {
    latency,
    heat,
    daily: [...daily].map(([k, usd]) => { const [day, model] = k.split('\0') as [string, string]; return { day, model, usd }; }).sort((a, b) => a.day.localeCompare(b.day) || a.model.localeCompare(b.model)),
    tools: [...sessions.values()].filter((s) => s.toolUse > 0)
      .map((s) => ({ tool: s.tool, session: s.session, turns: s.turns, toolUseTurns: s.toolUse, share: s.toolUse / s.turns, longestLoop: s.longest }))
      .sort((a, b) => b.toolUseTurns - a.toolUseTurns).slice(0, 50),
  };
}
