// Routing decisions: which rule a request matches (first match wins), which A/B arm it lands in
// (sticky by a hash of its session, else its token), and the provider chain that follows. Pure
// over plain data (settings section + request facts); never imports the pipeline or express.
import { createHash } from 'node:crypto';
import { globMatch } from '../pipeline/glob.js';
import type { Cascade, Classification, Tier } from '../smart/index.js';
import type { RouteArm, RouteRule, RouteTarget, RoutingSettings, Scenario } from './schema.js';

/** What a rule can look at, read cheaply from the request (no full body parse). */
export interface RequestFacts {
  model: string | null;
  /** The Sluice token's name; null for passthrough callers. */
  tool: string | null;
  /** `x-claude-code-agent-id` was present (a Claude Code subagent). */
  subagent: boolean;
  bodyBytes: number;
  /** Thinking is on in the body; asked only when a rule needs it. */
  thinking: () => boolean;
  /** What A/B stickiness hashes: the session id, else the token id; null: the request's own id. */
  stickyKey: string | null;
  /** The complexity tier of the request; asked only when a `tiers` rule matches. */
  classify?: () => Classification;
}

/** How a smart rule decided: the classifier's tier, or the cascade the chain follows. */
export type SmartDecision =
  | { kind: 'tiers'; tier: Tier; reasons: string[]; features: Classification['features'] | null }
  | { kind: 'cascade'; cascade: Cascade };

export interface RouteDecision {
  /** The rule's name, or `direct` for a `<provider>/<model>` id. */
  rule: string;
  arm: string | null;
  /** First choice, then fallbacks (for a cascade: its steps in order, then the rule's fallbacks). */
  chain: { provider: string; model: string | null }[];
  /** Set for `tiers` and `cascade` rules. */
  smart?: SmartDecision;
}

/** The tier name a cascade step is recorded under (ledger `tier`, `x-sluice-tier`). */
export function cascadeStepName(index: number): string {
  return `step-${index + 1}`;
}

/** Prefix that keeps a routed non-Claude id visible to Claude Code's model discovery (see catalog.ts). */
export const CLAUDE_CODE_PREFIX = 'claude-via/';

/** Rough token count from bytes: JSON-encoded English and code run 3-4 bytes per token. */
export function estimateTokens(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 4);
}

export function hasScenario(s: Scenario, facts: RequestFacts, routing: Pick<RoutingSettings, 'backgroundModels' | 'longContextTokens'>): boolean {
  switch (s) {
    case 'background': return facts.model !== null && globMatch(routing.backgroundModels, facts.model);
    case 'subagent': return facts.subagent;
    case 'long_context': return estimateTokens(facts.bodyBytes) > routing.longContextTokens;
    case 'thinking': return facts.thinking();
  }
}

export function ruleMatches(rule: RouteRule, facts: RequestFacts, routing: Pick<RoutingSettings, 'backgroundModels' | 'longContextTokens'>): boolean {
  const m = rule.match;
  if (m.alias !== undefined && facts.model !== m.alias) return false;
  if (m.model !== undefined && (facts.model === null || !globMatch(m.model, facts.model))) return false;
  if (m.tool !== undefined && facts.tool !== m.tool) return false;
  if (m.scenario !== undefined && !hasScenario(m.scenario, facts, routing)) return false;
  return true;
}

/** A number in [0, 1) from the rule and key: the same session always lands in the same arm. */
export function stickyPoint(rule: string, key: string): number {
  const d = createHash('sha256').update(rule).update('\0').update(key).digest();
  return d.readUInt32BE(0) / 0x1_0000_0000;
}

/** The arm whose share of the total weight covers `point` (arms with weight 0 never win). */
export function pickArm(arms: readonly RouteArm[], point: number): RouteArm {
  const total = arms.reduce((s, a) => s + a.weight, 0);
  let acc = 0;
  const x = point * total;
  for (const a of arms) {
    acc += a.weight;
    if (a.weight > 0 && x < acc) return a;
  }
  // Rounding at the very top of the range: the last arm with weight.
  return [...arms].reverse().find((a) => a.weight > 0) ?? arms[0]!;
}

const link = (t: RouteTarget) => ({ provider: t.provider, model: t.model ?? null });

/** `<provider>/<model>` (optionally behind CLAUDE_CODE_PREFIX) for a configured non-first-party provider. */
export function directTarget(model: string | null, providers: Readonly<Record<string, unknown>>): { provider: string; model: string } | null {
  if (model === null) return null;
  const id = model.startsWith(CLAUDE_CODE_PREFIX) ? model.slice(CLAUDE_CODE_PREFIX.length) : model;
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1) return null;
  const provider = id.slice(0, slash);
  // `anthropic/claude-...` is how aggregators spell Claude ids; it never means "our anthropic provider".
  if (provider === 'anthropic' || !providers[provider]) return null;
  return { provider, model: id.slice(slash + 1) };
}

/**
 * The route for a request, or null for the default (first-party Anthropic, bytes unchanged).
 * Rules are tried in order; then a `<provider>/<model>` id addresses a provider directly.
 *
 * @example
 * decideRoute(settings.routing, settings.providers, { model: 'claude-haiku-4-5', tool: 'claude-code', subagent: false, bodyBytes: 900, thinking: () => false, stickyKey: 'sess-1' }, 'req-1')
 * // => { rule: 'background', arm: null, chain: [{ provider: 'deepseek', model: 'deepseek-chat' }] }
 */
export function decideRoute(
  routing: RoutingSettings,
  providers: Readonly<Record<string, unknown>>,
  facts: RequestFacts,
  requestId: string,
): RouteDecision | null {
  for (const rule of routing.rules) {
    if (!ruleMatches(rule, facts, routing)) continue;
    let arm: RouteArm | null = null;
    let first: RouteTarget;
    const fallbacks = rule.fallbacks.map(link);
    if (rule.cascade !== undefined) {
      // routingProblems refuses settings naming an unknown cascade; a rule without one is skipped.
      const cascade = routing.smart.cascades.find((c) => c.name === rule.cascade);
      if (!cascade) continue;
      return { rule: rule.name, arm: null, chain: [...cascade.tiers.map(link), ...fallbacks], smart: { kind: 'cascade', cascade } };
    }
    if (rule.tiers) {
      // Without a body to read (`sluice route test`), the middle tier stands in.
      const c = facts.classify?.();
      const tier: Tier = c?.tier ?? 'moderate';
      const smart: SmartDecision = { kind: 'tiers', tier, reasons: c?.reasons ?? ['no request body to classify'], features: c?.features ?? null };
      return { rule: rule.name, arm: null, chain: [link(routing.smart.tiers[tier]), ...fallbacks], smart };
    }
    if (rule.arms) {
      arm = pickArm(rule.arms, stickyPoint(rule.name, facts.stickyKey ?? requestId));
      first = arm.target;
    } else {
      first = rule.target!;
    }
    return { rule: rule.name, arm: arm?.name ?? null, chain: [link(first), ...fallbacks] };
  }
  const direct = directTarget(facts.model, providers);
  return direct ? { rule: 'direct', arm: null, chain: [direct] } : null;
}
