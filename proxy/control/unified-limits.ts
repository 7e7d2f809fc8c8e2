// Subscription usage, read passively: on claude.ai OAuth (Pro/Max) traffic Anthropic answers
// each inference call with the account's window state in `anthropic-ratelimit-unified-*`
// response headers. Sluice records the latest values per account (keyed by the OAuth account id
// from metadata.user_id, else a hash of the credential; never the credential itself) and the last
// value seen in each 5-hour window, so `sluice report blocks` can show exact utilization. The
// headers reach the client unchanged: this module only reads them.
//
// Header names as Claude Code 2.1.332 reads them (its strings): `-status`, `-reset`,
// `-representative-claim`, `-overage-status`, `-overage-reset`, `-overage-utilization`, and per
// window (`5h`, `7d`, `7d_oi`, `overage`) `-<w>-utilization` (a fraction), `-<w>-reset` (epoch
// seconds), `-<w>-status`, `-<w>-surpassed-threshold`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.js';

export const UNIFIED_PREFIX = 'anthropic-ratelimit-unified-';
export const USAGE_LIMITS_FILE = 'usage-limits.json';
const FIVE_HOURS_MS = 5 * 3600_000;

export interface UnifiedWindow {
  /** Fraction of the window used (usually 0..1). */
  utilization: number | null;
  /** When the window resets, epoch ms. */
  resetsAt: number | null;
  status: string | null;
  surpassedThreshold: number | null;
}

export interface UnifiedObservation {
  /** When the response carrying the headers arrived, epoch ms. */
  seenAt: number;
  status: string | null;
  representativeClaim: string | null;
  overageStatus: string | null;
  fiveHour: UnifiedWindow | null;
  sevenDay: UnifiedWindow | null;
  /** Every `anthropic-ratelimit-unified-*` header as received (values are account state, not secrets). */
  headers: Record<string, string>;
}

export interface AccountLimits {
  account: string;
  latest: UnifiedObservation;
  /** The last observation inside each 5-hour window, by the window's reset (oldest first). */
  windows: UnifiedObservation[];
}

export interface UsageLimitsDoc {
  schema: 'sluice.usage-limits/1';
  accounts: AccountLimits[];
}

const num = (v: string | undefined): number | null => {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

function one(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function windowOf(h: Record<string, string | string[] | undefined>, w: string): UnifiedWindow | null {
  const utilization = num(one(h, `${UNIFIED_PREFIX}${w}-utilization`));
  const reset = num(one(h, `${UNIFIED_PREFIX}${w}-reset`));
  const status = one(h, `${UNIFIED_PREFIX}${w}-status`) ?? null;
  const surpassedThreshold = num(one(h, `${UNIFIED_PREFIX}${w}-surpassed-threshold`));
  if (utilization === null && reset === null && status === null && surpassedThreshold === null) return null;
  return { utilization, resetsAt: reset === null ? null : Math.round(reset * 1000), status, surpassedThreshold };
}

/** The unified headers of one response (keys lower-case), or null when it carries none. */
export function parseUnifiedHeaders(h: Record<string, string | string[] | undefined>, seenAt: number): UnifiedObservation | null {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || !k.toLowerCase().startsWith(UNIFIED_PREFIX)) continue;
    headers[k.toLowerCase()] = (Array.isArray(v) ? v.join(', ') : v).slice(0, 200);
  }
  if (Object.keys(headers).length === 0) return null;
  return {
    seenAt,
    status: headers[`${UNIFIED_PREFIX}status`] ?? null,
    representativeClaim: headers[`${UNIFIED_PREFIX}representative-claim`] ?? null,
    overageStatus: headers[`${UNIFIED_PREFIX}overage-status`] ?? null,
    fiveHour: windowOf(h, '5h'),
    sevenDay: windowOf(h, '7d'),
    headers,
  };
}

/**
 * Who the window state belongs to: Claude Code's `metadata.user_id` is a JSON string carrying
 * `account_uuid`; without it, a hash of the credential (never the credential).
 */
export function accountKey(metadataUserId: string | null, credential: string | null): string | null {
  if (metadataUserId !== null) {
    try {
      const o = JSON.parse(metadataUserId) as { account_uuid?: unknown };
      if (typeof o.account_uuid === 'string' && /^[A-Za-z0-9-]{1,80}$/.test(o.account_uuid)) return `account:${o.account_uuid}`;
    } catch { /* older clients: a plain string */ }
  }
  if (credential === null || credential === '') return null;
  return `credential:${createHash('sha256').update(`sluice-usage-limits\0${credential}`).digest('hex').slice(0, 16)}`;
}

/** The credential a passthrough request presented (x-api-key, else Bearer), for hashing only. */
export function presentedCredential(headers: Record<string, string | string[] | undefined>): string | null {
  const k = one(headers, 'x-api-key');
  if (k) return k;
  const a = one(headers, 'authorization');
  return a && /^bearer\s+/i.test(a) ? a.replace(/^bearer\s+/i, '').trim() : null;
}

const MAX_WINDOWS = 400;
const MAX_ACCOUNTS = 20;

export interface UsageLimitsStore {
  record(account: string, obs: UnifiedObservation): void;
  doc(): UsageLimitsDoc;
  /** Writes what is pending now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The gateway's side: in memory, written to `<dataDir>/usage-limits.json` a moment after a change. */
export function createUsageLimitsStore(dataDir: string, opts: { delayMs?: number; onError?: (e: Error) => void } = {}): UsageLimitsStore {
  const path = join(dataDir, USAGE_LIMITS_FILE);
  const accounts = new Map<string, AccountLimits>();
  for (const a of readUsageLimits(dataDir)?.accounts ?? []) accounts.set(a.account, a);
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  const doc = (): UsageLimitsDoc => ({ schema: 'sluice.usage-limits/1', accounts: [...accounts.values()].sort((a, b) => b.latest.seenAt - a.latest.seenAt) });
  const write = () => {
    timer = null;
    const text = `${JSON.stringify(doc(), null, 1)}\n`;
    writing = writing.then(() => writeFileAtomic(path, text, { mode: 0o600 })).catch((e: Error) => opts.onError?.(e));
    return writing;
  };
  return {
    record(account, obs) {
      let a = accounts.get(account);
      if (a === undefined) {
        if (accounts.size >= MAX_ACCOUNTS) {
          const oldest = [...accounts.values()].sort((x, y) => x.latest.seenAt - y.latest.seenAt)[0]!;
          accounts.delete(oldest.account);
        }
        a = { account, latest: obs, windows: [] };
        accounts.set(account, a);
      }
      if (obs.seenAt >= a.latest.seenAt) a.latest = obs;
      const reset = obs.fiveHour?.resetsAt ?? null;
      if (reset !== null) {
        const i = a.windows.findIndex((w) => w.fiveHour?.resetsAt === reset);
        if (i === -1) a.windows.push(obs);
        else if (obs.seenAt >= a.windows[i]!.seenAt) a.windows[i] = obs;
        a.windows.sort((x, y) => (x.fiveHour!.resetsAt! - y.fiveHour!.resetsAt!));
        if (a.windows.length > MAX_WINDOWS) a.windows.splice(0, a.windows.length - MAX_WINDOWS);
      }
      if (timer === null) {
        timer = setTimeout(() => { void write(); }, opts.delayMs ?? 250);
        timer.unref();
      }
    },
    doc,
    async flush() {
      if (timer !== null) { clearTimeout(timer); await write(); }
      await writing;
    },
    async close() { await this.flush(); },
  };
}

/** The file read as is (report, statusline, tray without a gateway); null when absent or unreadable. */
export function readUsageLimits(dataDir: string): UsageLimitsDoc | null {
  try {
    const d = JSON.parse(readFileSync(join(dataDir, USAGE_LIMITS_FILE), 'utf8')) as UsageLimitsDoc;
    return d && d.schema === 'sluice.usage-limits/1' && Array.isArray(d.accounts) ? d : null;
  } catch {
    return null;
  }
}

/** The 5-hour window an observation describes: [reset - 5 h, reset), or null without a reset. */
export function fiveHourWindowOf(o: UnifiedObservation): { start: number; end: number } | null {
  const r = o.fiveHour?.resetsAt ?? null;
  return r === null ? null : { start: r - FIVE_HOURS_MS, end: r };
}

/** The latest 5-hour and 7-day utilization over all accounts (the fullest when several), for one line. */
export function currentUtilization(doc: UsageLimitsDoc | null, now: number): { fiveHour: number | null; sevenDay: number | null; seenAt: number | null } {
  let fiveHour: number | null = null;
  let sevenDay: number | null = null;
  let seenAt: number | null = null;
  for (const a of doc?.accounts ?? []) {
    const l = a.latest;
    // A window that has reset since says nothing about now.
    const live = (w: UnifiedWindow | null) => (w !== null && w.utilization !== null && (w.resetsAt === null || w.resetsAt > now) ? w.utilization : null);
    const f = live(l.fiveHour);
    const s = live(l.sevenDay);
    if (f !== null) fiveHour = Math.max(fiveHour ?? 0, f);
    if (s !== null) sevenDay = Math.max(sevenDay ?? 0, s);
    if (f !== null || s !== null) seenAt = Math.max(seenAt ?? 0, l.seenAt);
  }
  return { fiveHour, sevenDay, seenAt };
}

/** Claude Code's warning thresholds for an announced cap (its own list: past 75% and 95%). */
const WARN_AT = [0.95, 0.75] as const;

/**
 * Sluice's fullest budget in the shape Claude Code (>= 2.1.225) reads from a gateway: a spend cap
 * as the `overage` claim, so it warns past 75% and 95% on its own. For traffic on the user's API
 * key only (there Anthropic sends no unified headers of its own).
 */
export function budgetUnifiedHeaders(b: { utilization: number; resetsAt: number }): Record<string, string> {
  const u = Math.max(0, b.utilization);
  const reset = String(Math.floor(b.resetsAt / 1000));
  const passed = WARN_AT.find((t) => u > t);
  const status = u >= 1 ? 'rejected' : passed !== undefined ? 'allowed_warning' : 'allowed';
  return {
    [`${UNIFIED_PREFIX}status`]: status,
    [`${UNIFIED_PREFIX}reset`]: reset,
    [`${UNIFIED_PREFIX}representative-claim`]: 'overage',
    [`${UNIFIED_PREFIX}overage-status`]: status,
    [`${UNIFIED_PREFIX}overage-reset`]: reset,
    [`${UNIFIED_PREFIX}overage-utilization`]: String(Math.min(1, Math.round(u * 1e4) / 1e4)),
    ...(passed !== undefined ? { [`${UNIFIED_PREFIX}overage-surpassed-threshold`]: String(passed) } : {}),
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * The first words of a budget refusal's message, as Claude Code's own gateway writes them:
 * `spend limit reached · resets Dec 8` (the reset's UTC date). Claude Code 2.1.332 recognises
 * exactly that pair and replaces the date by the reset in the user's own clock.
 */
export function budgetRefusalLead(reached: boolean, resetsAt: number | null): string {
  const head = reached ? 'spend limit reached' : 'spend limit nearly reached';
  if (resetsAt === null) return head;
  const d = new Date(resetsAt);
  return `${head} · resets ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

export interface BudgetRefusal {
  /** Spent (settled) over the limit; 1 or more once reached. */
  utilization: number;
  /** When the period resets, epoch ms; null for a budget without one (per session). */
  resetsAt: number | null;
  period: 'daily' | 'weekly' | 'monthly' | null;
  now: number;
  /** Claude Code's unified-limit headers too: API-key traffic only (on subscription traffic the windows are Anthropic's). */
  unified: boolean;
  /** A budget the whole team shares (Claude Code: "not the user's own cap"). */
  scope?: 'group_pool';
  /** `fetch_error`: the counter could not be read and Sluice fails closed. */
  reason?: 'org_spend_cap_reached' | 'fetch_error';
}

/**
 * The headers of a budget refusal (429 billing_error; x-should-retry: false comes with every
 * non-retryable GatewayError): `retry-after` = seconds to the reset, and on API-key traffic the
 * rejected shape of Claude Code's gateway reference, without `representative-claim` and
 * `overage-status` (with them Claude Code drops the gateway's message for a line of its own).
 */
export function budgetRefusalHeaders(r: BudgetRefusal): Record<string, string> {
  const out: Record<string, string> = {};
  if (r.resetsAt !== null) out['retry-after'] = String(Math.max(1, Math.ceil((r.resetsAt - r.now) / 1000)));
  if (!r.unified) return out;
  if (r.reason === 'fetch_error') return { ...out, [`${UNIFIED_PREFIX}overage-disabled-reason`]: 'fetch_error' };
  const reset = r.resetsAt === null ? null : String(Math.floor(r.resetsAt / 1000));
  Object.assign(out, {
    [`${UNIFIED_PREFIX}status`]: 'rejected',
    ...(reset !== null ? { [`${UNIFIED_PREFIX}reset`]: reset, [`${UNIFIED_PREFIX}overage-reset`]: reset } : {}),
    [`${UNIFIED_PREFIX}overage-utilization`]: String(Math.round(Math.max(0, r.utilization) * 100) / 100),
    [`${UNIFIED_PREFIX}overage-surpassed-threshold`]: '1',
    ...(r.period !== null ? { [`${UNIFIED_PREFIX}overage-period`]: r.period } : {}),
    ...(r.scope ? { [`${UNIFIED_PREFIX}overage-scope`]: r.scope } : {}),
    [`${UNIFIED_PREFIX}overage-disabled-reason`]: r.reason ?? 'org_spend_cap_reached',
  });
  return out;
}
