// The `observe` settings section (OTLP export, alert webhooks) and the billing-tag schema tool
// tokens carry. Mounted by store/settings.ts; imports zod only, so settings can import it freely.
import { z } from 'zod';

/** A tag key: `team`, `cost_centre`, `project-id`. Safe as an OTLP attribute suffix and a SQLite JSON path label. */
export const TAG_KEY_RE = /^[a-zA-Z][a-zA-Z0-9_-]{0,31}$/;
export const TAG_VALUE_MAX = 64;
export const MAX_TAGS = 16;

export const TagsSchema = z.record(z.string(), z.string().max(TAG_VALUE_MAX, `tag values are at most ${TAG_VALUE_MAX} characters`))
  // Keys checked here rather than by a key schema, so the message names the rule.
  .superRefine((t, ctx) => {
    for (const k of Object.keys(t)) {
      if (!TAG_KEY_RE.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'tag keys are 1-32 letters, digits, "_" or "-", starting with a letter' });
    }
    if (Object.keys(t).length > MAX_TAGS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_TAGS} tags` });
  });
export type Tags = z.infer<typeof TagsSchema>;

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

/** HTTP header names (RFC 9110 token characters). */
const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'not a valid header name');

/** Alert kinds the gateway and control plane emit, plus `test` (from `sluice webhook test`); `*` matches all. */
export const ALERT_KINDS = ['budget', 'breaker', 'fallback', 'test', '*'] as const;

export const WEBHOOK_ID_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;

export const WebhookSchema = z.object({
  /** Names the keychain account of its signing secret: `observe:webhook:<id>`. */
  id: z.string().regex(WEBHOOK_ID_RE, 'webhook ids are 1-32 of a-z, 0-9 and "-"'),
  url: httpUrl,
  /** Alert kinds to deliver; other kinds (from newer features) may be named too. */
  events: z.array(z.string().regex(/^(\*|[a-z][a-z0-9_-]{0,31})$/, 'an event is an alert kind such as budget, breaker, fallback, or *')).min(1).prefault(['budget', 'breaker', 'fallback']),
  enabled: z.boolean().prefault(true),
}).strict();
export type WebhookSettings = z.infer<typeof WebhookSchema>;

export const OTLP_SECRET_ACCOUNT = 'observe:otlp';
export const webhookSecretAccount = (id: string) => `observe:webhook:${id}`;

export const ObserveSettingsSchema = z.object({
  otlp: z.object({
    /** Off by default: nothing leaves the machine unless asked. */
    enabled: z.boolean().prefault(false),
    /** The collector's OTLP/HTTP base; `/v1/traces` and `/v1/metrics` are appended. */
    endpoint: httpUrl.prefault('http://127.0.0.1:4318'),
    /** Extra headers sent with every export (not secrets: those belong in `secretHeader`). */
    headers: z.record(headerName, z.string().max(1000)).prefault({}),
    /** A header whose value is read from the keychain account `observe:otlp` (e.g. `authorization`). */
    secretHeader: headerName.nullable().prefault(null),
    traces: z.boolean().prefault(true),
    metrics: z.boolean().prefault(true),
    intervalMs: z.number().int().min(100).max(300_000).prefault(5000),
    /** Spans per export request; reaching it triggers an export before the interval. */
    maxBatch: z.number().int().min(1).max(10_000).prefault(512),
    /** Spans waiting for export; past it the oldest are dropped (counted). */
    maxQueue: z.number().int().min(1).max(1_000_000).prefault(4096),
    timeoutMs: z.number().int().min(100).max(120_000).prefault(10_000),
  }).strict().prefault({}),
  webhooks: z.array(WebhookSchema).prefault([]).refine((w) => new Set(w.map((x) => x.id)).size === w.length, 'webhook ids must be unique'),
  webhookDelivery: z.object({
    /** Attempts per delivery, the first included. */
    maxAttempts: z.number().int().min(1).max(10).prefault(5),
    baseDelayMs: z.number().int().min(0).max(60_000).prefault(1000),
    maxDelayMs: z.number().int().min(0).max(600_000).prefault(60_000),
    timeoutMs: z.number().int().min(100).max(120_000).prefault(10_000),
    /** `<dataDir>/webhooks.log` rotates to `webhooks.log.1` past this size. */
    logMaxBytes: z.number().int().min(1024).max(100 * 1024 * 1024).prefault(1024 * 1024),
  }).strict().prefault({}),
}).strict();
export type ObserveSettings = z.infer<typeof ObserveSettingsSchema>;

export function defaultObserveSettings(): ObserveSettings {
  return ObserveSettingsSchema.parse({});
}
