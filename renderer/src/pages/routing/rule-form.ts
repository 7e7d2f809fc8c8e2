// The routing rule editor's form logic: a rule as editable strings and back, the checks the page
// can make before saving, and the server's problems for one rule. Pure; imports types only.
import type { RouteRule } from '../../lib/api.js';

export const SCENARIOS = ['background', 'subagent', 'long_context', 'thinking'] as const;
const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export interface ArmDraft { name: string; weight: string; provider: string; model: string }

export interface RuleDraft {
  name: string;
  model: string;
  alias: string;
  tool: string;
  scenario: string;
  /**
   * `tiers`: the complexity classifier picks routing.smart.tiers' simple/moderate/complex target;
   * `cascade`: the named routing.smart.cascades entry, cheapest step first, escalating on its triggers.
   */
  kind: 'target' | 'arms' | 'tiers' | 'cascade';
  /** The cascade's name (kind `cascade`). */
  cascade: string;
  provider: string;
  targetModel: string;
  arms: ArmDraft[];
  /** One target a line, `provider` or `provider/model` (provider names never contain "/"). */
  fallbacks: string;
}

export type RuleErrors = Partial<Record<string, string>>;

type Target = { provider: string; model?: string | undefined };

const targetText = (t: Target) => (t.model ? `${t.provider}/${t.model}` : t.provider);

export function emptyDraft(provider = 'anthropic'): RuleDraft {
  return { name: '', model: '', alias: '', tool: '', scenario: '', kind: 'target', cascade: '', provider, targetModel: '', arms: [], fallbacks: '' };
}

export function emptyArm(provider = 'anthropic'): ArmDraft {
  return { name: '', weight: '50', provider, model: '' };
}

export function toDraft(r: RouteRule): RuleDraft {
  const kind = r.arms ? 'arms' : r.target ? 'target' : r.tiers ? 'tiers' : 'cascade';
  return {
    name: r.name,
    model: r.match.model ?? '',
    alias: r.match.alias ?? '',
    tool: r.match.tool ?? '',
    scenario: r.match.scenario ?? '',
    kind,
    cascade: r.cascade ?? '',
    provider: r.target?.provider ?? 'anthropic',
    targetModel: r.target?.model ?? '',
    arms: (r.arms ?? []).map((a) => ({ name: a.name, weight: String(a.weight), provider: a.target.provider, model: a.target.model ?? '' })),
    fallbacks: r.fallbacks.map(targetText).join('\n'),
  };
}

function parseTarget(line: string): Target {
  const i = line.indexOf('/');
  return i < 0 ? { provider: line } : { provider: line.slice(0, i).trim(), model: line.slice(i + 1).trim() };
}

/**
 * The rule the draft describes, or the problems that keep it from being one (keyed by field:
 * `name`, `match`, `provider`, `arms`, `arm.<i>.<field>`, `cascade`, `fallbacks`). Provider and
 * cascade names are checked by the gateway, which knows them.
 */
export function fromDraft(d: RuleDraft, others: readonly string[]): { rule: RouteRule } | { errors: RuleErrors } {
  const errors: RuleErrors = {};
  const name = d.name.trim();
  if (!NAME_RE.test(name)) errors.name = 'Use 1-64 letters, digits, ".", "_" or "-".';
  else if (others.includes(name)) errors.name = `Another rule is already called "${name}".`;
  const match: RouteRule['match'] = {};
  if (d.model.trim()) match.model = d.model.trim();
  if (d.alias.trim()) match.alias = d.alias.trim();
  if (d.tool.trim()) match.tool = d.tool.trim();
  if (d.scenario) {
    if (!(SCENARIOS as readonly string[]).includes(d.scenario)) errors.scenario = `Pick one of ${SCENARIOS.join(', ')}.`;
    else match.scenario = d.scenario as (typeof SCENARIOS)[number];
  }
  const fallbacks = d.fallbacks.split('\n').map((l) => l.trim()).filter(Boolean).map(parseTarget);
  if (fallbacks.some((f) => !f.provider || f.model === '')) errors.fallbacks = 'Write one target a line: provider or provider/model.';
  const rule: RouteRule = { name, match, fallbacks };
  if (d.kind === 'target') {
    if (!d.provider.trim()) errors.provider = 'Pick a provider.';
    rule.target = { provider: d.provider.trim(), ...(d.targetModel.trim() ? { model: d.targetModel.trim() } : {}) };
  } else if (d.kind === 'arms') {
    if (d.arms.length < 2) errors.arms = 'An A/B split needs at least two arms.';
    const seen = new Set<string>();
    rule.arms = d.arms.map((a, i) => {
      const n = a.name.trim();
      if (!NAME_RE.test(n)) errors[`arm.${i}.name`] = 'Use 1-64 letters, digits, ".", "_" or "-".';
      else if (seen.has(n)) errors[`arm.${i}.name`] = `"${n}" is used twice.`;
      seen.add(n);
      const w = Number(a.weight);
      if (a.weight.trim() === '' || !Number.isFinite(w) || w < 0 || w > 1_000_000) errors[`arm.${i}.weight`] = 'A weight from 0 to 1000000.';
      if (!a.provider.trim()) errors[`arm.${i}.provider`] = 'Pick a provider.';
      return { name: n, weight: w, target: { provider: a.provider.trim(), ...(a.model.trim() ? { model: a.model.trim() } : {}) } };
    });
    if (!errors.arms && rule.arms.every((a) => a.weight === 0) && d.arms.every((_, i) => !errors[`arm.${i}.weight`])) errors.arms = 'The weights must add up to more than 0.';
  } else if (d.kind === 'tiers') {
    rule.tiers = true;
  } else {
    const c = d.cascade.trim();
    if (!NAME_RE.test(c)) errors.cascade = 'Name a cascade from routing.smart.cascades.';
    rule.cascade = c;
  }
  return Object.keys(errors).length ? { errors } : { rule };
}

/** The problems in a gateway error message that concern rule `index` (all of them if none names a rule). */
export function problemsFor(message: string, index: number): string[] {
  const body = message.replace(/^Invalid settings:\s*/, '').replace(/\.$/, '');
  const all = body.split(/;\s*/).filter(Boolean);
  const prefix = new RegExp(`^routing\\.rules\\.${index}(\\.|:)`);
  const mine = all.filter((p) => prefix.test(p));
  if (mine.length) return mine.map((p) => p.replace(/^routing\.rules\.\d+\.?/, '').replace(/^:\s*/, ''));
  return all.some((p) => /^routing\.rules\.\d+/.test(p)) ? all : [body];
}

/** One line for the rule list: what a rule matches. */
export function describeMatch(r: RouteRule): string {
  const parts: string[] = [];
  if (r.match.model) parts.push(`model ${r.match.model}`);
  if (r.match.alias) parts.push(`alias ${r.match.alias}`);
  if (r.match.tool) parts.push(`tool ${r.match.tool}`);
  if (r.match.scenario) parts.push(`scenario ${r.match.scenario}`);
  return parts.length ? parts.join(' · ') : 'every request';
}

/** Where a rule sends its requests, for the list. */
export function describeTarget(r: RouteRule): string {
  if (r.target) return targetText(r.target);
  if (r.arms) {
    const total = r.arms.reduce((s, a) => s + a.weight, 0);
    return r.arms.map((a) => `${a.name} ${total > 0 ? Math.round((a.weight / total) * 100) : 0}% → ${targetText(a.target)}`).join(', ');
  }
  if (r.tiers) return 'complexity tiers (routing.smart.tiers)';
  if (r.cascade) return `cascade ${r.cascade}`;
  return 'nothing';
}

export const describeFallbacks = (r: RouteRule): string => r.fallbacks.map(targetText).join(' → ');
