// The one formatter for numbers a person reads: tokens, dollars, durations, percentages and
// shortened ids, shared by the CLI and the dashboard (renderer/src/lib/format.ts re-exports it).
// Pure, no imports, locale pinned to en-US so screenshots and tests read the same everywhere.
// A missing cost is "unpriced", never $0.

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const cents = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A whole number with thousands separators: 1,234,567. */
export function formatInt(n: number): string {
  return int.format(n);
}

/** USD with as much precision as the amount needs: $12,345.67 / $0.12 / $0.0011 / $0.000001. */
export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return 'unpriced';
  const abs = Math.abs(usd);
  const sign = usd < 0 ? '-' : '';
  if (abs === 0) return '$0.00';
  if (abs >= 0.01) return `${sign}$${cents.format(abs)}`;
  if (abs < 0.000001) return `${sign}<$0.000001`;
  // Two significant digits for sub-cent amounts: a single cheap request still reads exactly.
  // (The epsilon keeps log10(1e-6) = -5.999… from adding a digit.)
  const digits = Math.min(6, 1 - Math.floor(Math.log10(abs) + 1e-9));
  return `${sign}$${abs.toFixed(digits)}`;
}

/** A cost with the count of requests that had no price: "$1.20 + 3 unpriced". */
export function formatCost(usd: number | null, unpricedRequests = 0): string {
  if (usd === null) return 'unpriced';
  return unpricedRequests > 0 ? `${formatUsd(usd)} + ${formatInt(unpricedRequests)} unpriced` : formatUsd(usd);
}

const UNITS: readonly [number, string][] = [[1e9, 'B'], [1e6, 'M'], [1e3, 'K']];

/**
 * Token counts: exact below 10,000 (999, 1,500), then three significant digits with a unit
 * (240K, 1M, 12.3M). Only zeros after a decimal point are dropped: 240,000 is "240K", never "24K".
 */
export function formatTokens(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs < 10_000) return int.format(n);
  const sign = n < 0 ? '-' : '';
  for (let i = UNITS.length - 1; i >= 0; i--) {
    const [div, unit] = UNITS[i]!;
    // Walk up from K: 999,950 rounds to "1000K", which reads as "1M".
    if (abs < div * 1000 || i === 0) {
      const v = abs / div;
      const s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
      if (Number(s) >= 1000 && i > 0) continue;
      return `${sign}${s.includes('.') ? s.replace(/\.?0+$/, '') : s}${unit}`;
    }
  }
  return int.format(n);
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

/** A share as a percentage: 0.125 -> "12.5%", 1 -> "100%", 0.0004 -> "<0.1%". */
export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  if (fraction === 0) return '0%';
  const p = fraction * 100;
  const min = 10 ** -digits;
  if (Math.abs(p) < min) return `${p < 0 ? '>-' : '<'}${min}%`;
  return `${p.toFixed(digits).replace(/\.0+$/, '')}%`;
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

/** The last folder of a project path: /home/dev/work/app -> app. */
export function projectName(p: string | null): string {
  if (!p) return '—';
  return p.split(/[\\/]/).filter(Boolean).at(-1) ?? p;
}

/** A figure that is partly an estimate (a cancelled or cut stream's output) is marked "≈". */
export function approx(text: string, estimated: boolean | number): string {
  return estimated === true || (typeof estimated === 'number' && estimated > 0) ? `≈${text}` : text;
}

/** The badge of a response whose output is an estimate: why it ended early; null when exact. */
export function estimateBadge(reason: string | null | undefined): string | null {
  return reason === 'client_cancelled' ? 'cancelled' : reason === 'upstream_cut' ? 'cut' : null;
}

/**
 * What share of a total is estimated, for the line under it: "≈ 2 of 40 billed responses
 * estimated (5%)"; '' when none is.
 */
export function estimatedShare(estimatedRequests: number, billedRequests: number): string {
  if (estimatedRequests <= 0) return '';
  return `≈ ${int.format(estimatedRequests)} of ${int.format(billedRequests)} billed responses estimated (${formatPercent(billedRequests > 0 ? estimatedRequests / billedRequests : null)})`;
}

/**
 * A session's models, each served model once with the ids it was asked for beside it where
 * routing changed the model ("haiku-4-5 (asked opus-4-6), sonnet-4-5"); an alias that only
 * adds or drops the date stamp is the same model and is not shown. `short`: ids via shortModel.
 */
export function modelsLabel(models: readonly string[], aliases: Readonly<Record<string, readonly string[]>> | undefined, short = true): string {
  const name = (m: string) => (short ? shortModel(m) : m);
  return models.map((m) => {
    const asked = (aliases?.[m] ?? []).filter((a) => shortModel(a) !== shortModel(m)).map(name);
    return asked.length > 0 ? `${name(m)} (asked ${asked.join(', ')})` : name(m);
  }).join(', ');
}
