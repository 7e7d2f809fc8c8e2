// One logger for the gateway and CLI: level-filtered lines, with anything that looks like a
// key (and every key the gateway resolved) masked before it is written. Imports nothing.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Masks this exact value in every later line (provider keys once resolved). */
  addSecret(value: string): void;
  /** Whether a line at `level` is written: callers skip building hot-path messages otherwise. */
  enabled?(level: LogLevel): boolean;
}

const KEY_PATTERNS = [
  /sk-ant-[A-Za-z0-9_-]{4,}/g, /sk-sluice-[A-Za-z0-9_-]{4,}/g, /sk-[A-Za-z0-9_-]{20,}/g,
  // Any JWT-shaped credential (Sluice's gateway-shaped tool tokens, IdP tokens): three base64url
  // parts, the first two JSON objects ("eyJ" is base64url of '{"').
  /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+/g,
];

export function redact(line: string, secrets: Iterable<string> = []): string {
  let out = line;
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join('[redacted]');
  for (const re of KEY_PATTERNS) out = out.replace(re, (m) => `${m.slice(0, 7)}…[redacted]`);
  return out;
}

export function createLogger(opts: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const secrets = new Set<string>();
  const log = (level: LogLevel) => (msg: string) => {
    if (ORDER[level] < min) return;
    write(redact(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}`, secrets));
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    addSecret: (v) => { if (v.length >= 6) secrets.add(v); },
    enabled: (level) => ORDER[level] >= min,
  };
}

export function parseLogLevel(v: string | undefined): LogLevel {
  return v && Object.hasOwn(ORDER, v) ? (v as LogLevel) : 'info';
}
