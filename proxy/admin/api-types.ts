// The admin API's wire types: what each endpoint returns and accepts. Shared type-only with the
// renderer (renderer/src/lib/api.ts), so this file must stay free of runtime code and imports
// only types.
import type { AlertEvent, RequestStartEvent } from '../events.js';
import type { EstimateReason, ReportBy, ReportRow, SessionDetail, SessionPage, UsageSums } from '../ledger/types.js';
import type { LedgerStorageState } from '../ledger/ledger.js';
import type { DayStatus } from '../reconcile-anthropic.js';
import type {
  ApplyResult, PreviewResult, StatusResult, ToolId, UndoResult,
} from '../tools/types.js';
import type { BudgetSettings, CaptureSettings, GuardAction } from '../control/schema.js';
import type { RouteRule } from '../routing/schema.js';
import type { BreakerSnapshot, BreakerState } from '../pipeline/resilience/breaker.js';

export type { LedgerStorageState } from '../ledger/ledger.js';
export type { DayStatus, DifferenceCause } from '../reconcile-anthropic.js';
export type { ReportBy, ReportRow, SessionDetail, SessionPage, SessionSummary, UsageSums, RequestRecord } from '../ledger/types.js';
export type { AlertEvent, RequestStartEvent } from '../events.js';
export type { ApplyResult, PreviewResult, UndoResult, ToolId, ToolState, FilePreview } from '../tools/types.js';
export type {
  BudgetSettings, CaptureSettings, ControlSettings, GuardAction, GuardPolicy, TokenPolicy, UserRule,
} from '../control/schema.js';
export type { DetectorId } from '../control/detectors.js';

export interface KeyInfo {
  provider: string;
  /** Last 4 characters only. */
  hint: string;
  source: 'keychain' | 'env';
}

export interface StatusResponse {
  status: 'ok' | 'draining';
  version: string;
  url: string;
  port: number;
  uptimeSeconds: number;
  inFlight: number;
  lastUpstream: { at: string; status: number | null; ok: boolean; latencyMs: number; error: string | null } | null;
  upstream: string;
  metering: boolean;
  /** Null when the gateway runs without a ledger. */
  spend: { today: UsageSums; month: UsageSums; day: string; monthStart: string } | null;
  tokens: { active: number };
  keys: KeyInfo[];
  keychain: { available: boolean; error: string | null };
  /**
   * Whether the usage ledger can write: when the disk refuses (full, read-only, locked), rows
   * wait in memory (`pending`) and past the spool's bound are dropped (`dropped`). Null without
   * a ledger. The tray and the window warn while `ok` is false or rows were dropped.
   */
  ledger: LedgerStorageState | null;
}

/** GET /reconcile/anthropic: per UTC day, whether the ledger matches Anthropic's cached report. */
export interface AnthropicMatchResponse {
  /** When `sluice reconcile --anthropic` last fetched the report; null: never (nothing to show). */
  fetchedAt: number | null;
  since: string | null;
  until: string | null;
  days: DayStatus[];
}

export interface ReportResponse {
  by: ReportBy;
  since: string | null;
  until: string | null;
  rows: ReportRow[];
}

export type { SessionPage as SessionsResponse, SessionDetail as SessionResponse };

/** GET /admin/api/report/blocks: exactly `sluice report blocks --json` (schema sluice.report/1). */
export type { BlockRow, ReportResult as BlocksResponse, ReportSums } from '../cli-report.js';

export interface SettingsView {
  port: number;
  /** The Anthropic base URL stored in the settings. */
  anthropicBaseUrl: string;
  /** SLUICE_ANTHROPIC_BASE_URL when set: it wins over the stored URL until the gateway restarts without it. */
  anthropicBaseUrlEnv: string | null;
  security: { allowPassthrough: boolean; allowedOrigins: string[] };
  metering: { enabled: boolean };
  pricing: { overrides: Record<string, unknown> };
  timeouts: { connectMs: number; firstByteMs: number; idleMs: number };
  /** Settings that take effect only after the gateway restarts. */
  restartRequired: ('port' | 'timeouts.connectMs')[];
}

/** PUT /settings: any subset; each given field is validated with the settings schema. */
export interface SettingsPatch {
  port?: number;
  anthropicBaseUrl?: string;
  security?: { allowPassthrough?: boolean; allowedOrigins?: string[] };
  metering?: { enabled?: boolean };
  pricing?: { overrides?: Record<string, unknown> };
  timeouts?: { connectMs?: number; firstByteMs?: number; idleMs?: number };
}

export interface TokenView {
  id: string;
  name: string;
  hint: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface TokenCreated {
  /** Shown once; Sluice keeps only its hash. */
  token: string;
  record: TokenView;
}

export interface KeysResponse {
  keys: KeyInfo[];
  keychain: { available: boolean; error: string | null };
}

export interface KeyTestResult {
  provider: string;
  ok: boolean;
  /** Upstream HTTP status, null when it could not be reached. */
  status: number | null;
  latencyMs: number;
  message: string;
  source: 'keychain' | 'env';
}

export interface ToolView {
  id: ToolId;
  label: string;
  installed: boolean;
  state: StatusResult['state'];
  baseUrl: string | null;
  drifted: string[];
  files: { path: string; exists: boolean; role: string }[];
  notes: string[];
  warnings: string[];
}

export interface ToolsResponse {
  gatewayUrl: string;
  cursorByokNote: string;
  tools: ToolView[];
}

export type ToolPreviewResponse = PreviewResult;
export type ToolApplyResponse = ApplyResult;
export type ToolUndoResponse = UndoResult & { tokenRevoked: boolean };

/** A finished request as the live feed shows it: ledger metadata, nothing sensitive. */
export interface RequestEndEvent {
  id: string;
  tsStart: number;
  tsEnd: number;
  sessionId: string | null;
  tool: string;
  method: string;
  path: string;
  endpoint: string;
  requestedModel: string | null;
  servedModel: string | null;
  stream: boolean;
  status: number | null;
  errorType: string | null;
  ttfbMs: number | null;
  totalMs: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  /** Null = unpriced. */
  costUsd: number | null;
  billed: boolean;
  /** Set when the stream ended early and the output is an estimate (shown with "≈"); absent from an older gateway. */
  estimated?: EstimateReason | null;
}

export interface AdminEventMap {
  'request:start': RequestStartEvent;
  'request:end': RequestEndEvent;
  alert: AlertEvent;
  profile: ProfileSwitchView;
}

/** SSE `profile`: the active profile changed (from any surface: the window, the CLI, the tray). */
export interface ProfileSwitchView {
  name: string | null;
  previous: string | null;
  ts: number;
}

/** A profile as the admin API lists it: names and counts, never provider entries (so never keys). */
export interface ProfileView {
  name: string;
  description: string;
  active: boolean;
  /** Active, but the live routing was edited since it was applied. */
  modified: boolean;
  providers: string[];
  rules: number;
}

/** GET /profiles, and the answer of POST /profiles/active. */
export interface ProfilesResponse {
  active: string | null;
  profiles: ProfileView[];
  /** The settings revision this answer reflects (also in `x-sluice-revision`); a switch sends it as If-Match. */
  revision: string;
}

/** POST /profiles/active: apply a profile (null: forget which one is active; the routing stays). */
export interface ProfileActivate {
  name: string | null;
}

export interface LoginUrlResponse {
  url: string;
  expiresInSeconds: number;
}

/** The Anthropic-shaped error envelope every failure carries. */
export interface ErrorEnvelope {
  type: 'error';
  error: { type: string; message: string };
  request_id: string;
}

// The control extension's routes (/admin/api/control/*). Its status types live beside code that
// imports node modules, so they are restated here; test/ui/budgets.test.ts checks at compile
// time that the server's ControlStatus is assignable to ControlStatusView.

/** GET /control/status `capture`: what body capture is doing now. */
export interface CaptureStatusView {
  enabled: boolean;
  /** Where captured bodies are written. */
  dir: string;
  files: number;
  bytes: number;
  oldestTs: number | null;
  retentionHours: number;
  maxTotalMb: number;
  tokens: string[];
}

/** One budget the engine has seen this run: settled spend plus reservations of requests in flight. */
export interface BudgetEngineEntry {
  /** `daily`, `monthly`, `session:<id>`, `token:<name>:daily`, `token:<name>:monthly`. */
  id: string;
  /** A local day (YYYY-MM-DD), a month (YYYY-MM) or `lifetime`. */
  period: string;
  settledUsd: number;
  reservedUsd: number;
  inFlight: number;
}

export interface AlertView {
  id: number;
  ts: number;
  /** `budget`, `guardrail`, `capture`, ... */
  kind: string;
  level: 'info' | 'warning' | 'critical';
  message: string;
  onceKey: string | null;
  data: Record<string, unknown> | null;
}

/** One rate-limit bucket now: `level` of `capacity` (the burst) left, refilling at `perMinute`. */
export interface BucketStateView {
  level: number;
  capacity: number;
  perMinute: number;
  /** Seconds until full again (0 when full). */
  fullInSeconds: number;
}

/** GET /control/status `rateLimits`: each tool token with a rate limit, its buckets now. */
export interface RateLimitStatusView {
  token: string;
  requests: BucketStateView | null;
  tokens: BucketStateView | null;
}

export interface ControlStatusView {
  capture: CaptureStatusView;
  rateLimits: RateLimitStatusView[];
  budgets: BudgetEngineEntry[];
  /** The newest 50. */
  alerts: AlertView[];
}

/** PUT /control/budgets: the given fields replace the current ones; null clears a budget. */
export type BudgetsPatch = Partial<BudgetSettings>;

/** PUT /control/capture: merged over the current capture settings. */
export type CapturePatch = Partial<CaptureSettings>;

/** POST /control/guardrails/test: positions only, never the matched text. */
export interface GuardTestFinding {
  /** A detector id or `rule:<id>`. */
  detector: string;
  action: Exclude<GuardAction, 'off'>;
  line: number;
  column: number;
  length: number;
}

export interface GuardTestResponse {
  findings: GuardTestFinding[];
}

export type { RouteRule, RoutingSettings } from '../routing/schema.js';
export type { ArmStats, AbReport } from '../routing/ab-report.js';
export type { BreakerSnapshot, BreakerState } from '../pipeline/resilience/breaker.js';

/** A configured provider as the dashboard sees it: where it is and how it is reached, never a key. */
export interface ProviderView {
  name: string;
  type: string;
  baseUrl: string;
  auth: 'x-api-key' | 'bearer' | 'none';
  /** The env variable Sluice also reads this provider's key from (its name only). */
  keyEnv: string;
  /** Whether a key is available (keychain or env), without revealing it; null when unknown. */
  hasKey: boolean | null;
  models: string[];
  /** The circuit breaker's state for this provider, when one exists yet. */
  breaker: BreakerState | null;
  /** Keys in its pool and how many are resting (rate limited or cooling down). */
  pool: { keys: number; resting: number } | null;
}

/** Where a provider's key comes from: never the key, only how many there are and the last 4 characters of the first. */
export interface ProviderKeyState {
  /** keychain / env: present there; missing: none found; not-needed: the provider takes no key (auth "none"). */
  state: 'keychain' | 'env' | 'missing' | 'not-needed';
  /** Keys in the provider's pool (keychain accounts `<provider>`, `<provider>:<label>`, and env keys). */
  keys: number;
  hint: string | null;
}

/** GET /providers: every provider in the registry with its key state and models. */
export interface ProvidersResponse {
  providers: {
    name: string;
    type: string;
    wire: string;
    baseUrl: string;
    auth: 'x-api-key' | 'bearer' | 'none';
    /** The env variable Sluice also reads this provider's key from (its name only). */
    keyEnv: string;
    key: ProviderKeyState;
    /** Configured ids first, then those the discovery cache holds for this base URL. */
    models: string[];
    configuredModels: number;
    /** When the discovery cache was filled for this provider; null when only configured ids are known. */
    modelsFetchedAt: number | null;
  }[];
}

/** GET /routing: the routing section, the providers it may name, and the live resilience state. */
export interface RoutingView {
  rules: RouteRule[];
  backgroundModels: string;
  longContextTokens: number;
  providers: ProviderView[];
  /** `resilience.fallbacks`: chains per requested-model glob, tried after the first choice. */
  fallbacks: { models: string; to: { provider: string; model?: string | undefined }[] }[];
  /** Null when the gateway's health() carries no resilience snapshot. */
  resilience: { breakers: BreakerSnapshot[]; retryBudget: number } | null;
}

/** GET /team/status, /team/report, /team/budgets (the team extension, proxy/team/report.ts). */
export type { TeamBudgetView, TeamReport, TeamReportBy, TeamReportRow, TeamStatusView } from '../team/report.js';
export type { LeaseStatus as TeamLeaseStatus } from '../team/leases.js';

/** PUT /routing/rules: the whole ordered rule list (first match wins). */
export interface RoutingRulesPut {
  rules: unknown[];
}
