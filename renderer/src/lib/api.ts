// The dashboard's only door to the gateway: one typed client over the admin API. Types come
// type-only from proxy/admin/api-types.ts; no other module of the renderer calls fetch.
import type {
  AbReport, AlertView, BlocksResponse, BudgetSettings, BudgetsPatch, CapturePatch, CaptureSettings, ControlSettings, ControlStatusView, ErrorEnvelope,
  GuardPolicy, GuardTestResponse, KeyInfo, KeysResponse, KeyTestResult, ProfilesResponse, ProvidersResponse, ReportBy, ReportResponse, RouteRule, RoutingView, SessionDetail, SessionPage,
  SettingsPatch, SettingsView, StatusResponse, TeamBudgetView, TeamReport, TeamReportBy, TeamStatusView, TokenCreated, TokenPolicy, TokenView, ToolApplyResponse, ToolPreviewResponse,
  ToolsResponse, ToolUndoResponse,
} from '../../../proxy/admin/api-types.js';

export type * from '../../../proxy/admin/api-types.js';
export type * from '../../../proxy/insights/types.js';
import type { InsightsReport } from '../../../proxy/insights/types.js';

/** A failed call: the gateway's error code (`x-sluice-error-code`) or NETWORK when nothing answered. */
export class ApiError extends Error {
  constructor(readonly code: string, readonly status: number, message: string, readonly requestId: string | null = null) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface SessionsQuery {
  search?: string;
  sort?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  since?: string;
  until?: string;
  tool?: string;
}

export interface ApiOptions {
  /** Prefix for every path; '' when served by the gateway itself. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** The admin token (Electron preload); the browser dashboard uses its session cookie instead. */
  token?: string;
  /**
   * A save was refused with 409 because the settings changed elsewhere (the CLI, another window,
   * a hand edit) since they were loaded here: reload what the page shows and tell the user.
   */
  onStale?: () => void;
}

/** The code of that refusal (nothing was written). */
export const SETTINGS_STALE = 'SETTINGS_REVISION_STALE';

/** Reads whose answer a page edits and saves back: their revision is the one a save is based on. */
const SETTINGS_READS = /^\/(settings|tokens|routing|profiles|control\/config)(\?|$)/;

export const API_PREFIX = '/admin/api';

/** `?a=1&b=x` from the defined entries only. */
export function queryString(q: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function createApi(opts: ApiOptions = {}) {
  const base = `${opts.baseUrl ?? ''}${API_PREFIX}`;
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  // The settings revision the shown settings were loaded at; every write sends it as If-Match.
  let revision: string | null = null;

  async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    // The desktop window (token, no cookie) names itself, so the control audit log says "app".
    if (opts.token) {
      headers.authorization = `Bearer ${opts.token}`;
      headers['x-sluice-source'] = 'app';
    }
    // Every state-changing call sends JSON: the gateway refuses other types (CSRF defence).
    if (method !== 'GET') headers['content-type'] = 'application/json';
    if (method !== 'GET' && revision) headers['if-match'] = `"${revision}"`;
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method, headers, credentials: 'same-origin', signal,
        body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError('NETWORK', 0, 'The gateway did not answer.');
    }
    const text = await res.text();
    const rev = res.headers.get('x-sluice-revision');
    if (rev && res.ok && (method !== 'GET' || SETTINGS_READS.test(path))) revision = rev;
    if (!res.ok) {
      let env: Partial<ErrorEnvelope> = {};
      try { env = JSON.parse(text) as ErrorEnvelope; } catch { /* not an envelope */ }
      const code = res.headers.get('x-sluice-error-code') ?? env.error?.type ?? `HTTP_${res.status}`;
      if (res.status === 409 && code === SETTINGS_STALE) opts.onStale?.();
      throw new ApiError(code, res.status, env.error?.message ?? `HTTP ${res.status}`, env.request_id ?? null);
    }
    return (text ? JSON.parse(text) : null) as T;
  }

  return {
    status: (signal?: AbortSignal) => call<StatusResponse>('GET', '/status', undefined, signal),
    sessions: (q: SessionsQuery, signal?: AbortSignal) => call<SessionPage>('GET', `/sessions${queryString({ ...q })}`, undefined, signal),
    session: (id: string, page: { limit?: number; offset?: number } = {}, signal?: AbortSignal) =>
      call<SessionDetail>('GET', `/sessions/${encodeURIComponent(id)}${queryString(page)}`, undefined, signal),
    report: (q: { by: ReportBy; since?: string; until?: string; limit?: number }, signal?: AbortSignal) =>
      call<ReportResponse>('GET', `/report${queryString(q)}`, undefined, signal),
    /** Per UTC day, whether the ledger matches Anthropic's report cached by `sluice reconcile --anthropic`. */
    anthropicMatch: (signal?: AbortSignal) => call<import('../../../proxy/admin/api-types.js').AnthropicMatchResponse>('GET', '/reconcile/anthropic', undefined, signal),
    /** A link for the browser to download (the cookie authenticates it). */
    exportCsvUrl: (q: { by: ReportBy; since?: string; until?: string }) => `${base}/export.csv${queryString(q)}`,
    settings: () => call<SettingsView>('GET', '/settings'),
    updateSettings: (patch: SettingsPatch) => call<SettingsView>('PUT', '/settings', patch),
    tokens: () => call<{ tokens: TokenView[] }>('GET', '/tokens'),
    createToken: (name: string) => call<TokenCreated>('POST', '/tokens', { name }),
    revokeToken: (id: string) => call<TokenView>('DELETE', `/tokens/${encodeURIComponent(id)}`),
    keys: () => call<KeysResponse>('GET', '/keys'),
    providers: () => call<ProvidersResponse>('GET', '/providers'),
    addKey: (provider: string, key: string) => call<KeyInfo>('POST', '/keys', { provider, key }),
    deleteKey: (provider: string) => call<{ provider: string; deleted: boolean }>('DELETE', `/keys/${encodeURIComponent(provider)}`),
    testKey: (provider: string) => call<KeyTestResult>('POST', `/keys/${encodeURIComponent(provider)}/test`),
    tools: () => call<ToolsResponse>('GET', '/tools'),
    previewTool: (id: string) => call<ToolPreviewResponse>('POST', `/tools/${encodeURIComponent(id)}/preview`),
    applyTool: (id: string) => call<ToolApplyResponse>('POST', `/tools/${encodeURIComponent(id)}/apply`),
    undoTool: (id: string) => call<ToolUndoResponse>('POST', `/tools/${encodeURIComponent(id)}/undo`),
    eventsUrl: () => `${base}/events`,
    routing: (signal?: AbortSignal) => call<RoutingView>('GET', '/routing', undefined, signal),
    /** The whole ordered rule list; the gateway validates it like the settings file. */
    saveRoutingRules: (rules: RouteRule[]) => call<RoutingView>('PUT', '/routing/rules', { rules }),
    abReport: (q: { rule?: string; since?: string }, signal?: AbortSignal) => call<AbReport>('GET', `/routing/ab${queryString(q)}`, undefined, signal),
    /** Profiles (names and counts; never provider entries or keys) with the settings revision. */
    profiles: (signal?: AbortSignal) => call<ProfilesResponse>('GET', '/profiles', undefined, signal),
    /** One click: applies the profile to the next request (null: none active). A stale page gets 409. */
    useProfile: (name: string | null) => call<ProfilesResponse>('POST', '/profiles/active', { name }),
    /** The team extension (a shared PostgreSQL ledger): status needs no database, report and budgets read it. */
    team: {
      status: (signal?: AbortSignal) => call<TeamStatusView>('GET', '/team/status', undefined, signal),
      report: (q: { by: TeamReportBy; since?: string; until?: string }, signal?: AbortSignal) => call<TeamReport>('GET', `/team/report${queryString(q)}`, undefined, signal),
      budgets: (signal?: AbortSignal) => call<{ budgets: TeamBudgetView[] }>('GET', '/team/budgets', undefined, signal),
    },
    /** 5-hour windows: exactly `sluice report blocks --json` (the same buildReport). */
    blocks: (q: { since?: string; until?: string } = {}, signal?: AbortSignal) => call<BlocksResponse>('GET', `/report/blocks${queryString(q)}`, undefined, signal),
    /** Insights (metadata only), and the one click that turns on cache injection for a tool. */
    insights: (signal?: AbortSignal) => call<InsightsReport>('GET', '/insights', undefined, signal),
    enableCacheInjection: (tool: string) => call<{ tool: string; injectCache: boolean }>('POST', `/insights/cache/${encodeURIComponent(tool)}`),
    /** The control extension (budgets, token policies, guardrails, capture, alerts). */
    control: {
      status: (signal?: AbortSignal) => call<ControlStatusView>('GET', '/control/status', undefined, signal),
      config: (signal?: AbortSignal) => call<ControlSettings>('GET', '/control/config', undefined, signal),
      setBudgets: (patch: BudgetsPatch) => call<BudgetSettings>('PUT', '/control/budgets', patch),
      savePolicy: (name: string, policy: TokenPolicy) => call<TokenPolicy>('PUT', `/control/policies/${encodeURIComponent(name)}`, policy),
      deletePolicy: (name: string) => call<{ deleted: string }>('DELETE', `/control/policies/${encodeURIComponent(name)}`),
      saveGuardrails: (policies: GuardPolicy[]) => call<{ policies: GuardPolicy[] }>('PUT', '/control/guardrails', { policies }),
      /** Without `policy`: every built-in detector. The answer has positions only. */
      testGuardrails: (text: string, policy?: string) => call<GuardTestResponse>('POST', '/control/guardrails/test', policy === undefined ? { text } : { text, policy }),
      setCapture: (patch: CapturePatch) => call<CaptureSettings>('PUT', '/control/capture', patch),
      alerts: (limit = 50, signal?: AbortSignal) => call<{ alerts: AlertView[] }>('GET', `/control/alerts${queryString({ limit })}`, undefined, signal),
    },
  };
}

export type Api = ReturnType<typeof createApi>;
