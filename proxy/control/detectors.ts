// Built-in guardrail detectors: each one is `(text) => Finding[]` and returns spans, never the
// matched text, so a finding can be logged or sent on the event bus without leaking the secret.
// Pure functions over strings; imports nothing.

export const DETECTOR_IDS = [
  'email', 'phone', 'card', 'aws_access_key', 'aws_secret_key', 'private_key',
  'anthropic_key', 'openai_key', 'github_token', 'jwt',
] as const;
export type DetectorId = (typeof DETECTOR_IDS)[number];

/** A match as UTF-16 offsets into the scanned text: `text.slice(start, end)` is the match. */
export interface Finding {
  detector: string;
  start: number;
  end: number;
}

export type Detector = (text: string) => Finding[];

/** Every match of `re` (must carry the g flag) as findings; `group` narrows the span to a capture group (d flag). */
function matches(text: string, re: RegExp, detector: string, accept?: (m: RegExpExecArray) => boolean): Finding[] {
  const out: Finding[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) { re.lastIndex++; continue; }
    if (accept && !accept(m)) continue;
    out.push({ detector, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

// File names (`icon@2x.png`) look like addresses; their "TLD" is a file extension.
const FILE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'css', 'json', 'html', 'md', 'txt', 'py', 'rs', 'go', 'lock', 'yml', 'yaml']);
const EMAIL_RE = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![A-Za-z0-9-])/g;
export const email: Detector = (text) => (text.includes('@')
  ? matches(text, EMAIL_RE, 'email', (m) => !FILE_EXTENSIONS.has(m[1]!.toLowerCase()))
  : []);

// North American style with separators (555-867-5309, (555) 867-5309, +1 555 867 5309) and
// E.164 with a plus. Bare digit runs (timestamps, ids) are left alone on purpose.
const PHONE_RE = /(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w.-]*\d)|(?<![\w+])\+[1-9]\d{7,14}(?!\w)/g;
export const phone: Detector = (text) => matches(text, PHONE_RE, 'phone');

/** Luhn checksum over a digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and lengths of the major networks: a Luhn-valid id with no card prefix is not a card. */
function looksLikeCardNumber(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // Amex
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return n >= 16 && n <= 19; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if (p2 === 36 || p2 === 38 || (p3 >= 300 && p3 <= 305)) return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  return false;
}

// 13-19 digits, optionally grouped by single spaces or dashes (one separator kind per number).
const CARD_RE = /(?<![\d.-])\d(?:\d|[ -](?=\d)){11,22}\d(?![\d.]|-\d)/g;
export const card: Detector = (text) => matches(text, CARD_RE, 'card', (m) => {
  const raw = m[0];
  if (raw.includes(' ') && raw.includes('-')) return false;
  const digits = raw.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && looksLikeCardNumber(digits) && luhnValid(digits);
});

const AWS_ACCESS_RE = /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z2-7]{16}(?![A-Za-z0-9])/g;
export const awsAccessKey: Detector = (text) => (/A[KSBCGINR][A-Z]A/.test(text) ? matches(text, AWS_ACCESS_RE, 'aws_access_key') : []);

// A secret access key is 40 base64 characters, indistinguishable from a hash on its own; it is
// only reported next to its name (aws_secret_access_key = ..., "SecretAccessKey": "...").
const AWS_SECRET_RE = /(?:aws_?secret(?:_?access)?_?key|secret_?access_?key)["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gid;
export const awsSecretKey: Detector = (text) => {
  const out: Finding[] = [];
  if (!/secret/i.test(text)) return out;
  AWS_SECRET_RE.lastIndex = 0;
  for (let m = AWS_SECRET_RE.exec(text); m !== null; m = AWS_SECRET_RE.exec(text)) {
    const [s, e] = m.indices![1]!;
    out.push({ detector: 'aws_secret_key', start: s, end: e });
  }
  return out;
};

const PEM_BEGIN_RE = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----/g;
/** From the BEGIN line to its END line; a block cut off before END is reported to the end of the text. */
export const privateKey: Detector = (text) => {
  const out: Finding[] = [];
  if (!text.includes('PRIVATE KEY-----')) return out;
  PEM_BEGIN_RE.lastIndex = 0;
  for (let m = PEM_BEGIN_RE.exec(text); m !== null; m = PEM_BEGIN_RE.exec(text)) {
    const endLine = `-----END ${m[1]}PRIVATE KEY-----`;
    const e = text.indexOf(endLine, m.index + m[0].length);
    const end = e < 0 ? text.length : e + endLine.length;
    out.push({ detector: 'private_key', start: m.index, end });
    PEM_BEGIN_RE.lastIndex = end;
  }
  return out;
};

// Real keys are ~100 characters after the prefix; 20 is enough to skip prose ("starts with sk-ant-").
const ANTHROPIC_RE = /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g;
export const anthropicKey: Detector = (text) => (text.includes('sk-ant-') ? matches(text, ANTHROPIC_RE, 'anthropic_key') : []);

// Project / service-account / admin keys (sk-proj-..., long), and legacy keys: sk- then 32+
// alphanumerics with both letters and digits (so `sk-learn` or a word list is not a key).
const OPENAI_RE = /(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|(?!ant-|sluice-)[A-Za-z0-9]{32,}(?![A-Za-z0-9_-]))/g;
export const openaiKey: Detector = (text) => (text.includes('sk-')
  ? matches(text, OPENAI_RE, 'openai_key', (m) => m[0].startsWith('sk-proj-') || m[0].startsWith('sk-svcacct-') || m[0].startsWith('sk-admin-') || (/\d/.test(m[0].slice(3)) && /[A-Za-z]/.test(m[0].slice(3))))
  : []);

const GITHUB_RE = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59,})(?![A-Za-z0-9_])/g;
export const githubToken: Detector = (text) => (/gh[pousr]_|github_pat_/.test(text) ? matches(text, GITHUB_RE, 'github_token') : []);

const JWT_RE = /(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{8,})\.(eyJ[A-Za-z0-9_-]{2,}|[A-Za-z0-9_-]{4,})\.([A-Za-z0-9_-]{0,})(?![A-Za-z0-9_.-])/g;
/** Three base64url parts whose first decodes to a JSON object naming an `alg`. */
export const jwt: Detector = (text) => (text.includes('eyJ')
  ? matches(text, JWT_RE, 'jwt', (m) => {
    try {
      const header = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as unknown;
      return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
    } catch {
      return false;
    }
  })
  : []);

export const BUILTIN_DETECTORS: Record<DetectorId, Detector> = {
  email,
  phone,
  card,
  aws_access_key: awsAccessKey,
  aws_secret_key: awsSecretKey,
  private_key: privateKey,
  anthropic_key: anthropicKey,
  openai_key: openaiKey,
  github_token: githubToken,
  jwt,
};

/** Human names for messages. */
export const DETECTOR_LABELS: Record<DetectorId, string> = {
  email: 'an email address',
  phone: 'a phone number',
  card: 'a payment card number',
  aws_access_key: 'an AWS access key id',
  aws_secret_key: 'an AWS secret access key',
  private_key: 'a private key block',
  anthropic_key: 'an Anthropic API key',
  openai_key: 'an OpenAI API key',
  github_token: 'a GitHub token',
  jwt: 'a JSON Web Token',
};
