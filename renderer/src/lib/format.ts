// Formatting for the dashboard. Numbers (tokens, dollars, durations, percentages, short ids)
// come from the one formatter the CLI also uses, proxy/format.ts; dates and times live here.
// Locale-pinned (en-US), so the screenshots and tests read the same everywhere.

export { approx, estimateBadge, estimatedShare, modelsLabel, formatCost, formatDuration, formatInt, formatPercent, formatTokens, formatUsd, projectName, shortId, shortModel, shortProject } from '../../../proxy/format.js';
export { requestStory, type StoryStep } from '../../../proxy/ledger/explain.js';

/** "just now", "5 min ago", "3 h ago", "2 days ago", then the date. */
export function formatRelative(ts: number, now: number): string {
  const d = Math.max(0, now - ts);
  if (d < 45_000) return 'just now';
  if (d < 3_600_000) return `${Math.max(1, Math.round(d / 60_000))} min ago`;
  if (d < 86_400_000) return `${Math.round(d / 3_600_000)} h ago`;
  if (d < 7 * 86_400_000) {
    const days = Math.round(d / 86_400_000);
    return `${days} day${days === 1 ? '' : 's'} ago`;
  }
  return formatDate(ts);
}

export function formatDate(ts: number): string {
  return new Date(ts).toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatDateTime(ts: number): string {
  return new Date(ts).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

export function formatTime(ts: number): string {
  return new Date(ts).toLocaleTimeString('en-US', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** 'YYYY-MM-DD' of the local day holding `ts`. */
export function localDayOf(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** 'Mar 4' from 'YYYY-MM-DD' (read as a local date). */
export function formatDayLabel(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y!, m! - 1, d!).toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
}
