// The insights wire types (GET /admin/api/insights, `sluice insights --json`). Types only, so
// the renderer shares them (renderer/src/lib/api.ts); imports types only.
import type { LedgerInsights } from './ledger-insights.js';

export type { Dist, LatencyRow, LedgerInsights, ToolTurns } from './ledger-insights.js';

export interface CacheCandidate {
  tool: string;
  session: string | null;
  model: string | null;
  position: string;
  hash: string;
  tokens: number;
  /** Requests in the last 5 minutes / hour that repeated the prefix of an earlier one and read no cache. */
  repeats5m: number;
  repeats1h: number;
  /** USD a breakpoint at this position would have saved over the hour (reads instead of inputs, minus the write premium). */
  savingsUsd: number | null;
}

export interface ToolCallStats {
  tool: string;
  /** null on the per-tool rows (every session of the tool). */
  session: string | null;
  calls: number;
  results: number;
  errors: number;
  /** errors / results, or null when no result was seen. */
  errorRate: number | null;
  /** Most-called names first, at most 12 (tool-calls.ts). */
  names: { name: string; calls: number }[];
}

export interface ToolCallReport {
  /** Counting since (the gateway's start: names are held in memory only). */
  since: number;
  byTool: ToolCallStats[];
  bySession: ToolCallStats[];
}

export interface InsightsReport extends LedgerInsights {
  generatedAt: number;
  /** Days of ledger the latency, spend and tool figures cover. */
  days: number;
  cache: (CacheCandidate & { covered: boolean })[];
  /** tool_use names and tool_result errors, counted in memory since the gateway started. */
  toolCalls: ToolCallReport;
}
