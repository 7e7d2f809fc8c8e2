// The `routing` settings section (rules, A/B arms, scenario thresholds) and its cross-checks
// against the configured providers. Mounted by store/settings.ts; imports zod and the smart
// routing section's schema (proxy/smart/schema.ts) only.
import { z } from 'zod';
import { SmartSettingsSchema } from '../smart/schema.js';

export const SCENARIOS = ['background', 'subagent', 'long_context', 'thinking'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const RouteTargetSchema = z.object({
  provider: z.string().min(1),
  /** The model to send; without it the requested model is kept (sensible only on Anthropic-format providers). */
  model: z.string().min(1).optional(),
});
export type RouteTarget = z.infer<typeof RouteTargetSchema>;

export const RouteMatchSchema = z.object({
  /** Glob (`claude-*haiku*`) or exact id, against the requested model. */
  model: z.string().min(1).optional(),
  /** An exact model name the client sends that exists only in Sluice (`fast`, `claude-cheap`). */
  alias: z.string().min(1).max(200).optional(),
  /** Name of the Sluice token the request came with (`claude-code`, `cline`). */
  tool: z.string().min(1).optional(),
  scenario: z.enum(SCENARIOS).optional(),
});
export type RouteMatch = z.infer<typeof RouteMatchSchema>;

export const RouteArmSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'arm names are 1-64 letters, digits, ".", "_" or "-"'),
  weight: z.number().min(0).max(1_000_000),
  target: RouteTargetSchema,
});
export type RouteArm = z.infer<typeof RouteArmSchema>;

export const RouteRuleSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'rule names are 1-64 letters, digits, ".", "_" or "-"'),
  /** Every given condition must hold; an empty match catches everything. */
  match: RouteMatchSchema.prefault({}),
  /** Where matching requests go (exactly one of `target`, `arms`, `tiers` and `cascade`). */
  target: RouteTargetSchema.optional(),
  /** A/B split: one arm per request, sticky per session (else per token). */
  arms: z.array(RouteArmSchema).min(1).optional(),
  /** Complexity tiers: the classifier picks simple/moderate/complex, mapped by `routing.smart.tiers`. */
  tiers: z.literal(true).optional(),
  /** A cascade named in `routing.smart.cascades`: cheapest step first, escalating on its triggers. */
  cascade: z.string().min(1).max(64).optional(),
  /** Tried in order when the target (or the chosen arm) fails before the first byte. */
  fallbacks: z.array(RouteTargetSchema).prefault([]),
});
export type RouteRule = z.infer<typeof RouteRuleSchema>;

export const RoutingSettingsSchema = z.object({
  /**
   * Claude Code's background work (titles, summaries, quota probes) uses its small/fast model,
   * a Haiku by default (ANTHROPIC_SMALL_FAST_MODEL / ANTHROPIC_DEFAULT_HAIKU_MODEL change it):
   * the `background` scenario is a requested model matching this glob.
   */
  backgroundModels: z.string().min(1).prefault('*haiku*'),
  /** `long_context`: estimated input tokens (body bytes / 4) above this. */
  longContextTokens: z.number().int().min(1000).max(10_000_000).prefault(100_000),
  /** First match wins. */
  rules: z.array(RouteRuleSchema).prefault([]),
  /** How long a provider's discovered model list is reused before asking again. */
  modelsCacheMs: z.number().int().min(0).max(7 * 24 * 3_600_000).prefault(3_600_000),
  /** Smart routing: tier targets, classifier thresholds and rules, cascades (proxy/smart). */
  smart: SmartSettingsSchema.prefault({}),
});
export type RoutingSettings = z.infer<typeof RoutingSettingsSchema>;

/** Problems zod's per-field checks cannot see: unknown providers, target vs arms, duplicate names. */
export function routingProblems(routing: RoutingSettings, providers: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const checkTarget = (t: RouteTarget, where: string) => {
    if (!providers[t.provider]) problems.push(`${where}.provider: "${t.provider}" is not a configured provider`);
  };
  routing.rules.forEach((r, i) => {
    const at = `routing.rules.${i}`;
    if (names.has(r.name)) problems.push(`${at}.name: "${r.name}" is used by an earlier rule`);
    names.add(r.name);
    const kinds = [r.target, r.arms, r.tiers, r.cascade].filter((x) => x !== undefined).length;
    if (kinds !== 1) problems.push(`${at}: give exactly one of "target", "arms", "tiers" and "cascade"`);
    if (r.tiers) {
      for (const [tier, t] of Object.entries(routing.smart.tiers)) checkTarget(t, `routing.smart.tiers.${tier}`);
    }
    if (r.cascade !== undefined) {
      const c = routing.smart.cascades.find((x) => x.name === r.cascade);
      if (!c) problems.push(`${at}.cascade: "${r.cascade}" is not defined in routing.smart.cascades`);
      else c.tiers.forEach((t, j) => checkTarget(t, `routing.smart.cascades.${routing.smart.cascades.indexOf(c)}.tiers.${j}`));
    }
    if (r.target) checkTarget(r.target, `${at}.target`);
    if (r.arms) {
      const armNames = new Set<string>();
      r.arms.forEach((a, j) => {
        checkTarget(a.target, `${at}.arms.${j}.target`);
        if (armNames.has(a.name)) problems.push(`${at}.arms.${j}.name: "${a.name}" is used twice in this rule`);
        armNames.add(a.name);
      });
      if (r.arms.reduce((s, a) => s + a.weight, 0) <= 0) problems.push(`${at}.arms: the weights must add up to more than 0`);
    }
    r.fallbacks.forEach((f, j) => checkTarget(f, `${at}.fallbacks.${j}`));
  });
  // Several tier rules share one tier map: its problems are listed once.
  return [...new Set(problems)];
}
