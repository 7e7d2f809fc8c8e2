// What happened to one request on its way upstream, in words a person reads: retries, key
// switches, fallbacks, cascade escalations, breaker skips and the gateway's own refusals, each
// with its reason, read from the ledger row and its attempts. Shared by the dashboard's session
// page and the CLI; numbers go through proxy/format.ts. Pure: no Node APIs (the renderer imports it).
import { formatDuration } from '../format.js';
import type { AttemptRecord } from './types.js';

/** The fields of a ledger row the story needs (RequestRecord and the admin API's rows have them). */
export interface RequestStoryInput {
  status: number | null;
  errorType: string | null;
  fallback: boolean;
  target: string | null;
  attempts: readonly AttemptRecord[];
}

export type StoryKind = 'retry' | 'key-switch' | 'fallback' | 'escalation' | 'skip' | 'refusal' | 'gave-up';

export interface StoryStep {
  kind: StoryKind;
  text: string;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'bad request', 401: 'unauthorized', 403: 'forbidden', 404: 'not found', 408: 'request timeout',
  413: 'too large', 429: 'rate limited', 500: 'server error', 502: 'bad gateway', 503: 'unavailable',
  504: 'gateway timeout', 529: 'overloaded',
};

const CODE_NAMES: Record<string, string> = {
  GATEWAY_UPSTREAM_TIMEOUT: 'timed out',
  GATEWAY_UPSTREAM_UNREACHABLE: 'unreachable',
  GATEWAY_UPSTREAM_CLOSED: 'connection dropped',
  CLIENT_ABORTED: 'the client hung up',
  overloaded_error: 'overloaded',
  rate_limit_error: 'rate limited',
  api_error: 'server error',
  timeout_error: 'timed out',
};

/** Refusals by the gateway itself, keyed by error code and by envelope type (the ledger keeps either). */
const REFUSALS: Record<string, string> = {
  GATEWAY_GUARDRAIL_BLOCKED: 'blocked by a guardrail before it left the machine',
  gateway_guardrail_blocked: 'blocked by a guardrail before it left the machine',
  GATEWAY_POLICY_DENIED: 'refused by the tool token\'s policy',
  gateway_policy_denied: 'refused by the tool token\'s policy',
  GATEWAY_BUDGET_EXCEEDED: 'refused: a budget would be exceeded',
  gateway_budget_exceeded: 'refused: a budget would be exceeded',
  GATEWAY_RATE_LIMITED: 'refused by the tool token\'s rate limit',
  GATEWAY_CIRCUIT_OPEN: 'refused without sending: circuit open (the upstream kept failing)',
  gateway_circuit_open: 'refused without sending: circuit open (the upstream kept failing)',
  GATEWAY_ALL_KEYS_RATE_LIMITED: 'refused without sending: every key rate limited',
  GATEWAY_PROVIDER_KEY_MISSING: 'refused: no API key for the provider',
};

/** "529 overloaded", "no response (timed out)", "200 escalated (max_tokens)". */
export function attemptReason(a: Pick<AttemptRecord, 'status' | 'error'>): string {
  if (a.error?.startsWith('escalated:')) return `${a.status ?? ''} escalated (${a.error.slice('escalated:'.length)})`.trim();
  const named = a.error ? (CODE_NAMES[a.error] ?? a.error) : null;
  if (a.status === null) return `no response (${named ?? 'unknown error'})`;
  const s = STATUS_NAMES[a.status] ?? (a.status >= 500 ? 'server error' : a.status >= 400 ? 'client error' : 'ok');
  return named && named !== s ? `${a.status} ${s}, ${named}` : `${a.status} ${s}`;
}

const failedAttempt = (a: AttemptRecord) => a.status === null || a.status >= 400 || a.error !== null;
const where = (a: AttemptRecord) => (a.keyId ? `key ${a.keyId}` : a.target);
const waited = (ms: number | null) => (ms && ms > 0 ? `, waited ${formatDuration(ms)}` : '');
const targetName = (a: AttemptRecord) => `${a.target}${a.model ? ` (${a.model})` : ''}`;

/** The request's detours, in order; [] for a request served at the first attempt. */
export function requestStory(r: RequestStoryInput): StoryStep[] {
  const out: StoryStep[] = [];
  const as = r.attempts;
  const first = as[0];
  if (first && r.fallback && as.every((a) => a.target === first.target)) {
    // Served by a fallback without trying the primary: its breaker was open or its keys resting.
    out.push({ kind: 'skip', text: `primary skipped (circuit open or keys resting), sent to ${targetName(first)}${waited(first.waitMs)}` });
  } else if (first?.waitMs) {
    out.push({ kind: 'skip', text: `waited ${formatDuration(first.waitMs)} for a resting key or open circuit before sending` });
  }
  for (let i = 0; i + 1 < as.length; i++) {
    const a = as[i]!;
    const b = as[i + 1]!;
    const reason = attemptReason(a);
    if (a.target !== b.target) {
      const escalation = a.error?.startsWith('escalated:') ?? false;
      out.push({
        kind: escalation ? 'escalation' : 'fallback',
        text: `${escalation ? 'escalated' : 'fell back'} to ${targetName(b)} after ${reason} on ${where(a)}${waited(b.waitMs)}`,
      });
    } else if (a.keyId !== b.keyId) {
      out.push({ kind: 'key-switch', text: `switched to key ${b.keyId ?? '(none)'} after ${reason} on ${where(a)}${waited(b.waitMs)}` });
    } else {
      out.push({ kind: 'retry', text: `retried after ${reason} on ${where(a)}${waited(b.waitMs)}` });
    }
  }
  const last = as[as.length - 1];
  const code = r.errorType ?? '';
  if (REFUSALS[code]) {
    out.push({ kind: 'refusal', text: REFUSALS[code]! });
  } else if (last && failedAttempt(last) && !last.error?.startsWith('escalated:') && (r.status === null || r.status >= 400)) {
    out.push({ kind: 'gave-up', text: `gave up after ${as.length} attempt${as.length === 1 ? '' : 's'}: ${attemptReason(last)} on ${where(last)}` });
  }
  return out;
}
