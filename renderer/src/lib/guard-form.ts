// The guardrail editor's form: one policy (which tokens it matches, each built-in detector's
// action, the user's regex rules) as fields and back, checked like the control schema does. The
// gateway adds the check a browser cannot make (catastrophic backtracking). Pure; types only.
import type { DetectorId, GuardAction, GuardPolicy, GuardTestFinding } from './api.js';
import type { DraftResult } from './policy-form.js';

/**
 * Every built-in detector with what it finds. A Record over DetectorId: a detector added to or
 * removed from the gateway fails this file's type check until the list follows.
 */
export const DETECTORS: Record<DetectorId, string> = {
  anthropic_key: 'Anthropic API keys',
  openai_key: 'OpenAI API keys',
  aws_access_key: 'AWS access key ids',
  aws_secret_key: 'AWS secret access keys',
  github_token: 'GitHub tokens',
  private_key: 'Private key blocks',
  jwt: 'JSON Web Tokens',
  email: 'Email addresses',
  phone: 'Phone numbers',
  card: 'Payment card numbers',
};
export const DETECTOR_IDS = Object.keys(DETECTORS) as DetectorId[];

export const ACTIONS: readonly GuardAction[] = ['off', 'flag', 'redact', 'block'];
export const ACTION_HINTS: Record<GuardAction, string> = {
  off: 'Not scanned',
  flag: 'Forwarded unchanged; an alert notes it',
  redact: 'Replaced by [REDACTED:…] before forwarding',
  block: 'Refused; the request never leaves the machine',
};

export type RuleAction = Exclude<GuardAction, 'off'>;

export interface RuleDraft {
  id: string;
  pattern: string;
  flags: string;
  action: RuleAction;
}

export interface GuardDraft {
  name: string;
  /** Token names or globs, separated by commas or spaces; `passthrough` is a caller without a token. */
  tokens: string;
  scanSystem: boolean;
  detectors: Record<DetectorId, GuardAction>;
  rules: RuleDraft[];
}

/** A starting point for a new policy: credentials redacted, personal data left alone. Nothing applies until saved. */
const NEW_POLICY_ACTIONS: Partial<Record<DetectorId, GuardAction>> = {
  anthropic_key: 'redact', openai_key: 'redact', aws_access_key: 'redact', aws_secret_key: 'redact', github_token: 'redact', private_key: 'redact', jwt: 'redact',
};

export function guardDraft(p: GuardPolicy | null | undefined, fallbackName = 'default'): GuardDraft {
  const actions = p ? p.detectors : NEW_POLICY_ACTIONS;
  const detectors = Object.fromEntries(DETECTOR_IDS.map((id) => [id, actions[id] ?? 'off'])) as Record<DetectorId, GuardAction>;
  return {
    name: p?.name ?? fallbackName,
    tokens: (p?.match.tokens ?? ['*']).join(', '),
    scanSystem: p?.scanSystem ?? false,
    detectors,
    rules: (p?.rules ?? []).map((r) => ({ id: r.id, pattern: r.pattern, flags: r.flags, action: r.action })),
  };
}

const TOKEN_GLOB_RE = /^[A-Za-z0-9*?][A-Za-z0-9._*?-]{0,63}$/;
const RULE_ID_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const MAX_PATTERN = 500;

/** Field keys of errors: `name`, `tokens`, `rules.<i>.id`, `rules.<i>.pattern`, `rules.<i>.flags`. */
export function readGuardDraft(d: GuardDraft, otherNames: readonly string[] = []): DraftResult<GuardPolicy, string> {
  const errors: Record<string, string> = {};
  const name = d.name.trim();
  if (name.length < 1 || name.length > 64) errors.name = 'A name of 1 to 64 characters.';
  else if (otherNames.includes(name)) errors.name = `Another policy is already named "${name}".`;
  const tokens = d.tokens.split(/[\s,]+/).filter(Boolean);
  if (tokens.length === 0) errors.tokens = 'At least one token name or glob; * matches every caller.';
  else {
    const bad = tokens.find((t) => !TOKEN_GLOB_RE.test(t));
    if (bad) errors.tokens = `"${bad.slice(0, 40)}" is not a token name or glob (letters, digits, . _ - * ?).`;
  }
  const seen = new Set<string>();
  d.rules.forEach((r, i) => {
    if (!RULE_ID_RE.test(r.id)) errors[`rules.${i}.id`] = 'Ids are 1-40 of a-z, 0-9, _ and -.';
    else if (seen.has(r.id)) errors[`rules.${i}.id`] = `Rule id "${r.id}" is used twice.`;
    seen.add(r.id);
    if (!/^[imsu]*$/.test(r.flags) || new Set(r.flags).size !== r.flags.length) errors[`rules.${i}.flags`] = 'Flags are any of i, m, s, u, each once.';
    if (r.pattern === '') errors[`rules.${i}.pattern`] = 'A pattern is required.';
    else if (r.pattern.length > MAX_PATTERN) errors[`rules.${i}.pattern`] = `At most ${MAX_PATTERN} characters.`;
    else if (!errors[`rules.${i}.flags`]) {
      try {
        new RegExp(r.pattern, r.flags);
      } catch (err) {
        errors[`rules.${i}.pattern`] = `Not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
      }
    }
  });
  if (Object.keys(errors).length) return { ok: false, errors };
  // Detectors left off are omitted: the saved policy lists only what it does.
  const detectors: Partial<Record<DetectorId, GuardAction>> = {};
  for (const id of DETECTOR_IDS) if (d.detectors[id] !== 'off') detectors[id] = d.detectors[id];
  return {
    ok: true,
    value: { name, match: { tokens }, scanSystem: d.scanSystem, detectors, rules: d.rules.map((r) => ({ id: r.id, pattern: r.pattern, flags: r.flags, action: r.action })) },
  };
}

/** What a finding is, in words: a built-in detector's label or the user's rule id. */
export function findingLabel(detector: string): string {
  if (detector.startsWith('rule:')) return `Rule "${detector.slice(5)}"`;
  return (DETECTORS as Record<string, string>)[detector] ?? detector;
}

/** "line 2, column 5, 20 characters": where a finding is, never what it is. */
export function findingPlace(f: Pick<GuardTestFinding, 'line' | 'column' | 'length'>): string {
  return `line ${f.line}, column ${f.column}, ${f.length} character${f.length === 1 ? '' : 's'}`;
}

/** "2 active of 10 · 1 rule" for the policy list. */
export function describeGuard(p: GuardPolicy): string {
  const on = DETECTOR_IDS.filter((id) => p.detectors[id] && p.detectors[id] !== 'off').length;
  return `${on} of ${DETECTOR_IDS.length} detectors on · ${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}`;
}
