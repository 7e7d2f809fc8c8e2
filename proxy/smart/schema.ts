// The `smart` settings section: complexity tiers and their targets, the classifier's thresholds,
// user rules, and cascade definitions. One zod schema with defaults; imports zod and the regex
// safety check of control/user-rules.ts only.
import { z } from 'zod';
import { checkUserPattern } from '../control/user-rules.js';

export const TIERS = ['simple', 'moderate', 'complex'] as const;
export type Tier = (typeof TIERS)[number];

export const CASCADE_TRIGGERS = ['rate_limit', 'overloaded', 'refusal', 'max_tokens', 'error_status'] as const;
export type CascadeTrigger = (typeof CASCADE_TRIGGERS)[number];

/**
 * Where a tier or cascade step sends a request. Same shape as routing's target, but the model is
 * required: a tier that kept the requested model would not route by complexity at all.
 */
export const SmartTargetSchema = z.object({
  provider: z.string().min(1).max(64),
  model: z.string().min(1).max(200),
}).strict();
export type SmartTarget = z.infer<typeof SmartTargetSchema>;

// The newest generation of each family in the bundled price table (proxy/pricing/prices.json,
// updated 2026-11-21): Haiku 5.5, Sonnet 5.5, Opus 5.5.
export const DEFAULT_TIER_TARGETS: Readonly<Record<Tier, SmartTarget>> = {
  simple: { provider: 'anthropic', model: 'claude-haiku-5-5' },
  moderate: { provider: 'anthropic', model: 'claude-sonnet-5-5' },
  complex: { provider: 'anthropic', model: 'claude-opus-5-5' },
};

const tokens = (max: number) => z.number().int().min(0).max(max);

export const ThresholdsSchema = z.object({
  /**
   * Claude Code's background work (titles, topic detection, quota probes, small summaries) goes
   * to its small/fast model with a short system prompt, no tools and a tiny max_tokens (512 for
   * titles, 1 for the quota probe): all conditions together make a request `simple`.
   */
  background: z.object({
    maxTokens: tokens(1_000_000).prefault(1024),
    maxTools: tokens(1000).prefault(0),
    maxSystemBytes: tokens(10_000_000).prefault(4096),
    /** Keeps a huge "summarise this in one line" off the smallest model's context window. */
    maxInputTokens: tokens(10_000_000).prefault(50_000),
  }).strict().prefault({}),
  /** A short chat question: every condition must hold (and no thinking, no code). */
  simple: z.object({
    maxTools: tokens(1000).prefault(0),
    maxMessages: z.number().int().min(1).max(100_000).prefault(4),
    maxInputTokens: tokens(10_000_000).prefault(2000),
  }).strict().prefault({}),
  /** Any one of these makes a request `complex`; null turns a check off. */
  complex: z.object({
    /** Thinking budget_tokens at or above this (Claude Code's "ultrathink" asks 31,999). */
    thinkingBudget: z.number().int().min(1).max(10_000_000).nullable().prefault(16_000),
    /** Estimated input tokens (body bytes / 4) at or above this. */
    inputTokens: z.number().int().min(1).max(100_000_000).nullable().prefault(100_000),
    /** Messages in the conversation at or above this. */
    messages: z.number().int().min(1).max(1_000_000).nullable().prefault(200),
    /** Characters of user text with code in it (a paste to review or rework) at or above this. */
    codeChars: z.number().int().min(1).max(10_000_000).nullable().prefault(4000),
  }).strict().prefault({}),
}).strict();
export type Thresholds = z.infer<typeof ThresholdsSchema>;

export const TierRuleSchema = z.object({
  /** A JavaScript regex source, matched against the user's own text in the last user turn. */
  pattern: z.string(),
  flags: z.string().prefault(''),
  tier: z.enum(TIERS),
}).strict().superRefine((r, ctx) => {
  const problem = checkUserPattern(r.pattern, r.flags);
  if (problem) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
});
export type TierRule = z.infer<typeof TierRuleSchema>;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export const CascadeSchema = z.object({
  name: z.string().regex(NAME, 'cascade names are 1-64 letters, digits, ".", "_" or "-"'),
  /** Cheapest first; each escalation moves one step along. */
  tiers: z.array(SmartTargetSchema).min(2).max(10),
  triggers: z.array(z.enum(CASCADE_TRIGGERS)).min(1).prefault(['rate_limit', 'overloaded']),
  /** Statuses the `error_status` trigger escalates on; without it, any 5xx. */
  errorStatuses: z.array(z.number().int().min(400).max(599)).min(1).optional(),
}).strict().superRefine((c, ctx) => {
  if (new Set(c.triggers).size !== c.triggers.length) ctx.addIssue({ code: 'custom', path: ['triggers'], message: 'a trigger is listed twice' });
  if (c.errorStatuses && !c.triggers.includes('error_status')) {
    ctx.addIssue({ code: 'custom', path: ['errorStatuses'], message: 'errorStatuses needs the error_status trigger' });
  }
});
export type Cascade = z.infer<typeof CascadeSchema>;

export const SmartSettingsSchema = z.object({
  tiers: z.object({
    simple: SmartTargetSchema.prefault(DEFAULT_TIER_TARGETS.simple),
    moderate: SmartTargetSchema.prefault(DEFAULT_TIER_TARGETS.moderate),
    complex: SmartTargetSchema.prefault(DEFAULT_TIER_TARGETS.complex),
  }).strict().prefault({}),
  thresholds: ThresholdsSchema.prefault({}),
  /** Tried in order before the heuristics; the first match decides the tier. */
  rules: z.array(TierRuleSchema).max(200).prefault([]),
  cascades: z.array(CascadeSchema).max(100).prefault([]),
}).strict().superRefine((s, ctx) => {
  const seen = new Set<string>();
  s.cascades.forEach((c, i) => {
    if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['cascades', i, 'name'], message: `cascade "${c.name}" is defined twice` });
    seen.add(c.name);
  });
});
export type SmartSettings = z.infer<typeof SmartSettingsSchema>;

export class SmartSettingsError extends Error {
  readonly code = 'SMART_SETTINGS_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid smart routing settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses a candidate section, listing every problem at once. */
export function parseSmartSettings(raw: unknown): SmartSettings {
  const r = SmartSettingsSchema.safeParse(raw ?? {});
  if (!r.success) throw new SmartSettingsError(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  return r.data;
}
