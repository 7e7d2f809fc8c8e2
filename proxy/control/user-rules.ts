// User regex guardrail rules: validation (syntax, then a catastrophic-backtracking check) and
// compilation into a Detector. JS regexes cannot be interrupted, so a pattern must pass a static
// check and a timed probe before it is accepted. Pure; imports only detectors.ts types.
import type { Detector, Finding } from './detectors.js';

export const MAX_PATTERN_LENGTH = 500;
/** A probe input slower than this rejects the pattern (a safe pattern takes well under 1 ms). */
export const PROBE_BUDGET_MS = 25;
const ALLOWED_FLAGS = /^[imsu]*$/;

/**
 * Finds the shapes that backtrack exponentially: a group that contains a quantifier (or an
 * alternation) and is itself repeated without bound, e.g. `(a+)+`, `(\w*)*`, `(a|aa)+`, and
 * backreferences (whose cost no simple check can bound).
 */
function staticProblem(pattern: string): string | null {
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not allowed';
  interface Group { quantified: boolean; alternation: boolean }
  const stack: Group[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') { i++; continue; }
    if (inClass) { if (c === ']') inClass = false; continue; }
    if (c === '[') { inClass = true; continue; }
    if (c === '(') { stack.push({ quantified: false, alternation: false }); continue; }
    if (c === '|') { const top = stack.at(-1); if (top) top.alternation = true; continue; }
    const unbounded = (j: number) => {
      const q = pattern[j];
      if (q === '*' || q === '+') return true;
      if (q === '{') { const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(j)); return !!m && m[2] !== undefined && (m[3] === '' || Number(m[3]) > 10); }
      return false;
    };
    const isQuant = (j: number) => pattern[j] === '*' || pattern[j] === '+' || pattern[j] === '?' || (pattern[j] === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(j)));
    if (c === ')') {
      const g = stack.pop();
      if (!g) return 'unbalanced parenthesis';
      if ((g.quantified || g.alternation) && unbounded(i + 1)) return 'a repeated group contains a quantifier or alternation (nested quantifiers backtrack exponentially)';
      const parent = stack.at(-1);
      if (parent && (g.quantified || isQuant(i + 1))) parent.quantified = true;
      continue;
    }
    if (isQuant(i)) { const top = stack.at(-1); if (top) top.quantified = true; }
  }
  return null;
}

/** Inputs that make a backtracking pattern slow: long runs of its own characters with a mismatch at the end. */
function probes(pattern: string): string[] {
  const chars = [...new Set(pattern.replace(/\\[dws]/gi, '').replace(/[^A-Za-z0-9 @._:-]/g, ''))].join('') || 'a';
  return [
    `${chars[0]!.repeat(5000)}!`,
    `${chars.repeat(Math.ceil(5000 / chars.length))}\u0000`,
    `${'a1 '.repeat(2000)}!`,
  ];
}

/** Why `pattern` cannot be a rule, or null when it is acceptable. */
export function checkUserPattern(pattern: string, flags = ''): string | null {
  if (pattern.length === 0) return 'the pattern is empty';
  if (pattern.length > MAX_PATTERN_LENGTH) return `the pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  if (!ALLOWED_FLAGS.test(flags)) return 'flags may only be i, m, s, u';
  let re: RegExp;
  try {
    re = new RegExp(pattern, `${flags}g`);
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`;
  }
  const problem = staticProblem(pattern);
  if (problem) return problem;
  if (re.test('')) return 'the pattern matches the empty string';
  for (const input of probes(pattern)) {
    const t0 = performance.now();
    re.lastIndex = 0;
    while (re.exec(input) !== null) if (performance.now() - t0 > PROBE_BUDGET_MS) break;
    if (performance.now() - t0 > PROBE_BUDGET_MS) return `the pattern is too slow on a ${input.length}-character probe (catastrophic backtracking)`;
  }
  return null;
}

/** Compiles a checked rule; call checkUserPattern first (the schema does). */
export function compileUserRule(id: string, pattern: string, flags = ''): Detector {
  const re = new RegExp(pattern, `${flags.replace(/g/g, '')}g`);
  return (text) => {
    const out: Finding[] = [];
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) { re.lastIndex++; continue; }
      out.push({ detector: `rule:${id}`, start: m.index, end: m.index + m[0].length });
    }
    return out;
  };
}
