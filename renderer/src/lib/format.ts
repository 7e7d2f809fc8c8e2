// Formatting for money, tokens, durations and times. Pure and locale-pinned (en-US), so the
// screenshots and tests read the same everywhere. A missing cost is "unpriced", never $0.

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** USD with as much precision as the amount needs: $1,234 / $12.34 / $0.12 / $0.0011. */
export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return 'unpriced';
  const abs = Math.abs(usd);
  const sign = usd < 0 ? '-' : '';
  if (abs === 0) return '$0.00';
  if (abs >= 10_000) return `${sign}$${int.format(Math.round(abs))}`;
  if (abs >= 0.01) return `${sign}$${abs.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  if (abs < 0.000001) return `${sign}<$0.000001`;
  // Two significant digits for sub-cent amounts: a single cheap request still reads exactly.
  const digits = Math.min(6, 1 - Math.floor(Math.log10(abs)));
  return `${sign}$${abs.toFixed(digits)}`;
}

/** A cost with the count of requests that had no price: "$1.20 + 3 unpriced". */
export function formatCost(usd: number | null, unpricedRequests = 0): string {
  if (usd === null) return 'unpriced';
  return unpricedRequests > 0 ? `${formatUsd(usd)} + ${unpricedRequests} unpriced` : formatUsd(usd);
}

export function formatInt(n: number): string {
  return int.format(n);
}

/** Compact token counts: 950, 12.3K, 4.56M, 1.2B. */
export function formatTokens(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1000) return int.format(n);
  const [div, unit] = abs >= 1e9 ? [1e9, 'B'] : abs >= 1e6 ? [1e6, 'M'] : [1e3, 'K'];
  const v = n / div;
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${s.replace(/\.?0+$/, '')}${unit}`;
}

/** 850 ms, 1.53 s, 1m 05s, 2h 03m. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

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

/** The middle of a long id elided: 5f1c1a9e…0001. */
export function shortId(id: string, head = 8, tail = 4): string {
  return id.length <= head + tail + 1 ? id : `${id.slice(0, head)}…${tail > 0 ? id.slice(-tail) : ''}`;
}

/** A model id without the vendor prefix and date stamp: claude-sonnet-4-5-20250929 -> sonnet-4-5. */
export function shortModel(id: string | null): string {
  if (!id) return '—';
  return id.replace(/^claude-/, '').replace(/-\d{8}$/, '');
}

/** A project path shown by its last two segments. */
export function shortProject(p: string | null): string {
  if (!p) return '—';
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts.length <= 2 ? p : `…/${parts.slice(-2).join('/')}`;
}
