// The complexity classifier: user rules first (first match wins), then cheap heuristics over the
// features, each decision explained in `reasons`. Pure; imports this folder's schema and features
// and control/user-rules.ts's regex safety check only.
import { checkUserPattern } from '../control/user-rules.js';
import { recordedFeatures, type Features, type RecordedFeatures } from './features.js';
import { SmartSettingsError, type SmartSettings, type Thresholds, type Tier } from './schema.js';

export interface Classification {
  tier: Tier;
  /** Why, in order of evaluation; shown to the user and kept with the ledger row. */
  reasons: string[];
  /** 0-based index of the user rule that decided, or null when the heuristics did. */
  rule: number | null;
  /** What the ledger's `features` column stores (no prompt text). */
  features: RecordedFeatures;
}

export interface CompiledRule {
  index: number;
  source: string;
  flags: string;
  re: RegExp;
  tier: Tier;
}

/** Settings turned into what classify runs: regexes compiled once, not per request. */
export interface ClassifierConfig {
  thresholds: Thresholds;
  rules: CompiledRule[];
}

/**
 * Compiles the rules of a (parsed) smart section. Re-checks each pattern with the guardrail
 * rules' backtracking check: a JS regex cannot be interrupted, so an unchecked one could stall
 * every request. Throws SmartSettingsError listing every bad rule.
 */
export function compileClassifierConfig(settings: Pick<SmartSettings, 'thresholds' | 'rules'>): ClassifierConfig {
  const problems: string[] = [];
  const rules: CompiledRule[] = [];
  settings.rules.forEach((r, index) => {
    const problem = checkUserPattern(r.pattern, r.flags);
    if (problem) { problems.push(`rules.${index}.pattern: ${problem}`); return; }
    // No `g`: test() would then carry lastIndex from one request to the next.
    rules.push({ index, source: r.pattern, flags: r.flags, re: new RegExp(r.pattern, r.flags.replace(/g/g, '')), tier: r.tier });
  });
  if (problems.length) throw new SmartSettingsError(problems);
  return { thresholds: settings.thresholds, rules };
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * The tier of a request.
 *
 * Order: user rules on the user's own text of the last user turn; Claude Code's background shape
 * (no tools, tiny max_tokens, short system prompt) -> simple; any complex signal (big thinking
 * budget, long context, very long conversation, a big code paste) -> complex; a short chat
 * question -> simple; everything else -> moderate. An agent loop's tool_result turn carries no
 * user text, so rules do not see it; it lands on the heuristics.
 *
 * @example
 * const config = compileClassifierConfig(SmartSettingsSchema.parse({ rules: [{ pattern: '\\bultrathink\\b', tier: 'complex' }] }));
 * classify(extractFeatures(body, scanTopLevel(body)), config).tier; // 'complex' when the prompt says ultrathink
 */
export function classify(features: Features, config: ClassifierConfig): Classification {
  const done = (tier: Tier, reasons: string[], rule: number | null = null): Classification =>
    ({ tier, reasons, rule, features: recordedFeatures(features) });
  const f = features;
  const t = config.thresholds;
  const pre: string[] = [];
  if (f.unreadable.length) pre.push(`could not read ${f.unreadable.join(', ')}; decided from the rest`);

  if (f.userText !== '') {
    for (const r of config.rules) {
      if (r.re.test(f.userText)) return done(r.tier, [...pre, `rule ${r.index + 1} /${r.source}/${r.flags} matched the last user turn`], r.index);
    }
  }

  const bg = t.background;
  if (f.toolCount <= bg.maxTools && f.maxTokens !== null && f.maxTokens <= bg.maxTokens
    && f.systemBytes <= bg.maxSystemBytes && f.estInputTokens <= bg.maxInputTokens && f.thinking === null) {
    return done('simple', [...pre, `background shape: ${f.toolCount} tools, max_tokens ${n(f.maxTokens)} <= ${n(bg.maxTokens)}, system ${n(f.systemBytes)} B <= ${n(bg.maxSystemBytes)} B`]);
  }

  const cx = t.complex;
  const complex: string[] = [];
  if (cx.thinkingBudget !== null && f.thinkingBudget !== null && f.thinkingBudget >= cx.thinkingBudget) {
    complex.push(`thinking budget ${n(f.thinkingBudget)} >= ${n(cx.thinkingBudget)}`);
  }
  if (cx.inputTokens !== null && f.estInputTokens >= cx.inputTokens) {
    complex.push(`about ${n(f.estInputTokens)} input tokens >= ${n(cx.inputTokens)}`);
  }
  if (cx.messages !== null && f.messageCount >= cx.messages) {
    complex.push(`${n(f.messageCount)} messages >= ${n(cx.messages)}`);
  }
  if (cx.codeChars !== null && f.hasCode && f.userChars >= cx.codeChars) {
    complex.push(`code in ${n(f.userChars)} characters of user text >= ${n(cx.codeChars)}`);
  }
  if (complex.length) return done('complex', [...pre, ...complex]);

  const s = t.simple;
  if (f.toolCount <= s.maxTools && f.messageCount <= s.maxMessages && f.estInputTokens <= s.maxInputTokens
    && f.thinking === null && !f.hasCode && f.toolResults === 0) {
    return done('simple', [...pre, `short chat: ${f.toolCount} tools, ${f.messageCount} messages, about ${n(f.estInputTokens)} input tokens, no code`]);
  }

  const why: string[] = [];
  if (f.thinking !== null) why.push(f.thinkingBudget !== null ? `thinking (budget ${n(f.thinkingBudget)})` : `thinking (${f.thinking})`);
  if (f.toolResults > 0) why.push(`agent loop continues (${f.toolResults} tool results)`);
  if (f.toolCount > s.maxTools) why.push(`${f.toolCount} tools offered`);
  if (f.hasCode) why.push('code in the last user turn');
  if (f.messageCount > s.maxMessages) why.push(`${f.messageCount} messages`);
  if (f.estInputTokens > s.maxInputTokens) why.push(`about ${n(f.estInputTokens)} input tokens`);
  return done('moderate', [...pre, ...(why.length ? why : ['no simple or complex signal'])]);
}
