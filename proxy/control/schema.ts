// The `control` settings section: tool-token policies, budgets, guardrails, capture. One zod
// schema with defaults (the lead mounts it as `control: ControlSettingsSchema.prefault({})`).
// Imports zod and this folder's detector ids and rule checks only.
import { z } from 'zod';
import { DETECTOR_IDS } from './detectors.js';
import { checkUserPattern } from './user-rules.js';

const usd = z.number().finite().positive().max(1_000_000);
const glob = z.string().min(1).max(200);
const TOKEN_NAME = /^[A-Za-z0-9*?][A-Za-z0-9._*?-]{0,63}$/;

/** 'YYYY-MM-DD' (valid through that local day) or a full ISO 8601 instant. */
const expiry = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) ? !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s)
  : /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO date (YYYY-MM-DD) or date-time');

export const TokenPolicySchema = z.object({
  /** Model id globs (`claude-sonnet-*`); empty allows every model. */
  models: z.array(glob).prefault([]),
  dailyUsd: usd.nullable().prefault(null),
  monthlyUsd: usd.nullable().prefault(null),
  requestsPerMinute: z.number().int().positive().max(1_000_000).nullable().prefault(null),
  /** Input (cache included) + output tokens per minute. */
  tokensPerMinute: z.number().int().positive().max(1_000_000_000).nullable().prefault(null),
  /**
   * Bucket sizes: how many requests / tokens may go at once before the sustained rate applies
   * (null: one minute's worth). A Claude Code session fanning out subagents wants a burst of 200+.
   */
  burstRequests: z.number().int().positive().max(1_000_000).nullable().prefault(null),
  burstTokens: z.number().int().positive().max(1_000_000_000).nullable().prefault(null),
  expires: expiry.nullable().prefault(null),
  /** Add prompt-cache breakpoints to requests that carry none (opt-in; changes the forwarded bytes). */
  injectCache: z.boolean().prefault(false),
}).strict().superRefine((p, ctx) => {
  if (p.burstRequests !== null && p.requestsPerMinute === null) ctx.addIssue({ code: 'custom', path: ['burstRequests'], message: 'a burst needs a sustained requestsPerMinute' });
  if (p.burstTokens !== null && p.tokensPerMinute === null) ctx.addIssue({ code: 'custom', path: ['burstTokens'], message: 'a burst needs a sustained tokensPerMinute' });
});
export type TokenPolicy = z.infer<typeof TokenPolicySchema>;

export const GUARD_ACTIONS = ['off', 'flag', 'redact', 'block'] as const;
export type GuardAction = (typeof GUARD_ACTIONS)[number];
const action = z.enum(GUARD_ACTIONS);

export const UserRuleSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'ids are 1-40 of a-z, 0-9, _ and -'),
  pattern: z.string(),
  flags: z.string().prefault(''),
  action: z.enum(['flag', 'redact', 'block']).prefault('flag'),
}).strict().superRefine((r, ctx) => {
  const problem = checkUserPattern(r.pattern, r.flags);
  if (problem) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
});
export type UserRule = z.infer<typeof UserRuleSchema>;

export const GuardPolicySchema = z.object({
  name: z.string().min(1).max(64),
  /**
   * Which requests the policy applies to; every listed dimension must match. Only `tokens`
   * exists today; a `routes` list slots in beside it when routing lands.
   */
  match: z.object({ tokens: z.array(z.string().regex(TOKEN_NAME, 'a token name or glob')).min(1).prefault(['*']) }).strict().prefault({}),
  /** Also scan the system prompt (off by default: it is the tool's, not the user's, text). */
  scanSystem: z.boolean().prefault(false),
  detectors: z.partialRecord(z.enum(DETECTOR_IDS), action).prefault({}),
  rules: z.array(UserRuleSchema).prefault([]),
}).strict();
export type GuardPolicy = z.infer<typeof GuardPolicySchema>;

export const CaptureSettingsSchema = z.object({
  enabled: z.boolean().prefault(false),
  /** Token names or globs to capture; empty captures every caller. */
  tokens: z.array(z.string().regex(TOKEN_NAME, 'a token name or glob')).prefault([]),
  retentionHours: z.number().positive().max(24 * 365).prefault(24),
  maxTotalMb: z.number().positive().max(100_000).prefault(50),
}).strict();
export type CaptureSettings = z.infer<typeof CaptureSettingsSchema>;

export const BudgetSettingsSchema = z.object({
  /** All callers together, per local day / calendar month. */
  dailyUsd: usd.nullable().prefault(null),
  monthlyUsd: usd.nullable().prefault(null),
  /** Each Claude Code session on its own, over its lifetime. */
  sessionUsd: usd.nullable().prefault(null),
  /** Fractions of a budget at which an alert fires (once per budget and period). */
  alertAt: z.array(z.number().positive().max(1)).min(1).max(10).prefault([0.5, 0.8, 1]),
}).strict();
export type BudgetSettings = z.infer<typeof BudgetSettingsSchema>;

export const ControlSettingsSchema = z.object({
  /** Per tool-token name (as `sluice token create <name>`). */
  tokens: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a token name'), TokenPolicySchema).prefault({}),
  budgets: BudgetSettingsSchema.prefault({}),
  guardrails: z.object({
    /** The first policy whose `match` fits a request applies. */
    policies: z.array(GuardPolicySchema).prefault([]),
  }).strict().prefault({}),
  capture: CaptureSettingsSchema.prefault({}),
}).strict();
export type ControlSettings = z.infer<typeof ControlSettingsSchema>;

export function defaultControlSettings(): ControlSettings {
  return ControlSettingsSchema.parse({});
}

export class ControlSettingsError extends Error {
  readonly code = 'CONTROL_SETTINGS_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid control settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses a candidate section, listing every problem. */
export function parseControlSettings(raw: unknown): ControlSettings {
  const r = ControlSettingsSchema.safeParse(raw ?? {});
  if (!r.success) throw new ControlSettingsError(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  return r.data;
}
