// The token-policy editor's form: a policy as text fields and back, checked with the same rules
// as the control schema (proxy/control/schema.ts) so most mistakes are named before a save; the
// gateway still validates everything. Pure; imports types, budgets.ts and the shared formatter only.
import type { TokenPolicy } from './api.js';
import { parseCount, parseUsd, usdField } from './budgets.js';
import { formatDuration, formatInt, formatUsd } from './format.js';

export interface PolicyDraft {
  /** Model id globs, separated by commas, spaces or new lines; empty allows every model. */
  models: string;
  dailyUsd: string;
  monthlyUsd: string;
  requestsPerMinute: string;
  tokensPerMinute: string;
  /** Bucket sizes; empty: one minute's worth. */
  burstRequests: string;
  burstTokens: string;
  /** YYYY-MM-DD (valid through that day) or an ISO date-time; empty never expires. */
  expires: string;
  injectCache: boolean;
}

export type PolicyField = keyof PolicyDraft;
export type DraftResult<T, F extends string> = { ok: true; value: T } | { ok: false; errors: Partial<Record<F, string>> };

/** A policy with every field at its schema default: no limits at all. */
export const OPEN_POLICY: TokenPolicy = {
  models: [], dailyUsd: null, monthlyUsd: null, requestsPerMinute: null, tokensPerMinute: null, burstRequests: null, burstTokens: null, expires: null, injectCache: false,
};

/** The token names the control API accepts as a policy's key. */
export const TOKEN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function policyDraft(p: TokenPolicy | null | undefined): PolicyDraft {
  const q = p ?? OPEN_POLICY;
  return {
    models: q.models.join(', '),
    dailyUsd: usdField(q.dailyUsd),
    monthlyUsd: usdField(q.monthlyUsd),
    requestsPerMinute: q.requestsPerMinute === null ? '' : String(q.requestsPerMinute),
    tokensPerMinute: q.tokensPerMinute === null ? '' : String(q.tokensPerMinute),
    burstRequests: q.burstRequests === null ? '' : String(q.burstRequests),
    burstTokens: q.burstTokens === null ? '' : String(q.burstTokens),
    expires: q.expires ?? '',
    injectCache: q.injectCache,
  };
}

/** Same rule as the schema: a real calendar date, or a date-time Date.parse reads. */
export function validExpiry(s: string): boolean {
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    const t = Date.parse(`${s}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().startsWith(s);
  }
  return /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s));
}

export function readPolicyDraft(d: PolicyDraft): DraftResult<TokenPolicy, PolicyField> {
  const errors: Partial<Record<PolicyField, string>> = {};
  const models = d.models.split(/[\s,]+/).map((m) => m.trim()).filter(Boolean);
  const long = models.find((m) => m.length > 200);
  if (long) errors.models = `A model pattern is at most 200 characters (${long.slice(0, 20)}… is longer).`;
  const daily = parseUsd(d.dailyUsd);
  if (!daily.ok) errors.dailyUsd = daily.error;
  const monthly = parseUsd(d.monthlyUsd);
  if (!monthly.ok) errors.monthlyUsd = monthly.error;
  const rpm = parseCount(d.requestsPerMinute, 1_000_000);
  if (!rpm.ok) errors.requestsPerMinute = rpm.error;
  const tpm = parseCount(d.tokensPerMinute, 1_000_000_000);
  if (!tpm.ok) errors.tokensPerMinute = tpm.error;
  const burstR = parseCount(d.burstRequests, 1_000_000);
  if (!burstR.ok) errors.burstRequests = burstR.error;
  else if (burstR.value !== null && rpm.ok && rpm.value === null) errors.burstRequests = 'A burst needs a requests-per-minute rate to refill at.';
  const burstT = parseCount(d.burstTokens, 1_000_000_000);
  if (!burstT.ok) errors.burstTokens = burstT.error;
  else if (burstT.value !== null && tpm.ok && tpm.value === null) errors.burstTokens = 'A burst needs a tokens-per-minute rate to refill at.';
  const expires = d.expires.trim();
  if (expires !== '' && !validExpiry(expires)) errors.expires = 'Enter a date as YYYY-MM-DD (valid through that day), or leave it empty.';
  if (!daily.ok || !monthly.ok || !rpm.ok || !tpm.ok || !burstR.ok || !burstT.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      models, dailyUsd: daily.value, monthlyUsd: monthly.value, requestsPerMinute: rpm.value, tokensPerMinute: tpm.value,
      burstRequests: burstR.value, burstTokens: burstT.value,
      expires: expires === '' ? null : expires, injectCache: d.injectCache,
    },
  };
}

/** When a policy stops admitting requests: the end of the local day for a date, else the instant. */
export function expiryInstant(expires: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(expires);
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1).getTime() : Date.parse(expires);
}

export interface PolicySummary {
  models: string;
  limits: string;
  budgets: string;
  expires: string;
  expired: boolean;
  cache: string;
}

/** One line per column of the policies table. */
export function summarizePolicy(p: TokenPolicy, now: number): PolicySummary {
  const limits = [
    p.requestsPerMinute !== null ? `${formatInt(p.requestsPerMinute)} req/min${p.burstRequests !== null ? ` (burst ${formatInt(p.burstRequests)})` : ''}` : null,
    p.tokensPerMinute !== null ? `${formatInt(p.tokensPerMinute)} tokens/min${p.burstTokens !== null ? ` (burst ${formatInt(p.burstTokens)})` : ''}` : null,
  ].filter(Boolean);
  const budgets = [
    p.dailyUsd !== null ? `${formatUsd(p.dailyUsd)}/day` : null,
    p.monthlyUsd !== null ? `${formatUsd(p.monthlyUsd)}/month` : null,
  ].filter(Boolean);
  return {
    models: p.models.length ? p.models.join(', ') : 'All models',
    limits: limits.length ? limits.join(' · ') : 'No rate limit',
    budgets: budgets.length ? budgets.join(' · ') : 'No budget',
    expires: p.expires ?? 'Never',
    expired: p.expires !== null && now >= expiryInstant(p.expires),
    cache: p.injectCache ? 'Injected' : 'Off',
  };
}

/** A bucket now, for the policies table: "140 of 200 left · full in 1m 0s". */
export function describeBucket(b: { level: number; capacity: number; fullInSeconds: number } | null, unit: string): string | null {
  if (!b) return null;
  const left = formatInt(Math.max(0, Math.floor(b.level)));
  return `${left} of ${formatInt(b.capacity)} ${unit} left${b.fullInSeconds > 0 ? ` · full in ${formatDuration(b.fullInSeconds * 1000)}` : ''}`;
}
