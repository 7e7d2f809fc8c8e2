// The control commands of `sluice`: budget, token policy, guard test, capture, audit. Every
// change is validated by the control schema, saved through the settings store and written to
// the audit log (source 'cli'). All I/O comes in through `io`; imports this folder and the stores.
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLedger } from '../ledger/index.js';
import { localDay, localDayStart, systemTzOffset, type TzOffset } from '../ledger/dates.js';
import { callGateway, openCliSettings, type GatewayRuntime } from '../cli-settings.js';
import { formatDuration, formatInt, formatUsd } from '../format.js';
import type { RateLimitStatus } from './index.js';
import { settingsControlConfig, type ControlConfig } from './config.js';
import { compileGuard, REDACT_ALL, scanPlainText } from './guardrails.js';
import { ControlSettingsError, parseControlSettings, TokenPolicySchema, type ControlSettings } from './schema.js';
import { controlDbPath, openControlStore } from './store.js';
import { CAPTURE_DIR } from './capture.js';

export interface ControlCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd?: string;
}

export interface ControlCliDeps {
  /** Default: `settings.control` in `<dataDir>/settings.json`. */
  config?: ControlConfig;
  now?: () => number;
  tz?: TzOffset;
}

export const CONTROL_HELP = `Control commands:
  sluice budget [list] [--json]
  sluice budget set daily|monthly|session <usd> [--token NAME]
                                   (--token: the daily or monthly budget of that token)
  sluice budget clear daily|monthly|session|all [--token NAME]
  sluice token policy <name> [--models GLOB,GLOB] [--daily USD] [--monthly USD] [--rpm N]
        [--tpm N] [--expires YYYY-MM-DD] [--cache on|off] [--clear] [--json]
                                   (no option: show it; "none" unsets a field)
  sluice guard test <file> [--policy NAME] [--json]
                                   exit 1 when something is found; values are never printed
  sluice capture on|off|status [--token NAME,NAME] [--retention-hours N] [--max-mb N] [--json]
  sluice audit [--limit N] [--json]
`;

class ControlUsageError extends Error {}

/** True when `argv` is one of the commands above (so the main CLI hands it over before its own option parsing). */
export function isControlCommand(argv: readonly string[]): boolean {
  const [cmd, sub] = argv.filter((a) => !a.startsWith('-'));
  return cmd === 'budget' || cmd === 'guard' || cmd === 'capture' || cmd === 'audit' || (cmd === 'token' && sub === 'policy');
}

const usdArg = (v: string, flag: string): number | null => {
  if (v === 'none') return null;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new ControlUsageError(`${flag} takes a positive USD amount (or "none"), got "${v}"`);
  return n;
};
const intArg = (v: string, flag: string): number | null => {
  if (v === 'none') return null;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new ControlUsageError(`${flag} takes a positive integer (or "none"), got "${v}"`);
  return Number(v);
};
/** Dollars through the shared formatter; an unset budget reads "no limit". */
const money = (usd: number | null) => (usd === null ? 'no limit' : formatUsd(usd));

export async function runControlCli(args: string[], io: ControlCliIo, dataDir: string, deps: ControlCliDeps = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: {
        json: { type: 'boolean' }, token: { type: 'string' }, models: { type: 'string' }, daily: { type: 'string' },
        monthly: { type: 'string' }, rpm: { type: 'string' }, tpm: { type: 'string' }, 'burst-requests': { type: 'string' }, 'burst-tokens': { type: 'string' }, expires: { type: 'string' },
        cache: { type: 'string' }, clear: { type: 'boolean' }, policy: { type: 'string' }, 'retention-hours': { type: 'string' },
        'max-mb': { type: 'string' }, limit: { type: 'string' }, 'data-dir': { type: 'string' },
      },
    });
  } catch (err) {
    io.stderr(`sluice: ${(err as Error).message}\n${CONTROL_HELP}`);
    return 2;
  }
  const { values: o, positionals: p } = parsed;
  const now = deps.now ?? Date.now;
  const tz = deps.tz ?? systemTzOffset;
  // Through the running gateway when one is up (so the change applies to its next request).
  const opened = deps.config ? null : await openCliSettings(dataDir);
  const config = deps.config ?? settingsControlConfig(opened!.settings);
  const gateway: GatewayRuntime | null = opened?.gateway ?? null;
  const store = openControlStore(controlDbPath(dataDir));
  const save = async (action: string, target: string, edit: (c: ControlSettings) => { before: unknown; after: unknown }) => {
    const draft = structuredClone(config.get());
    const { before, after } = edit(draft);
    const next = await config.save(parseControlSettings(draft));
    store.audit({ ts: now(), source: 'cli', action, target, detail: { before: before ?? null, after: after ?? null } });
    return next;
  };
  const out = (s: string) => io.stdout(s.endsWith('\n') ? s : `${s}\n`);

  try {
    const [cmd, sub, a1, a2] = p;
    switch (cmd) {
      case 'budget': {
        if (sub === 'list' || sub === undefined) {
          const c = config.get();
          const spend = spendNow(dataDir, now(), tz);
          const tokens = Object.entries(c.tokens).filter(([, t]) => t.dailyUsd !== null || t.monthlyUsd !== null)
            .map(([name, t]) => ({ token: name, dailyUsd: t.dailyUsd, monthlyUsd: t.monthlyUsd }));
          if (o.json) { out(JSON.stringify({ ...c.budgets, tokens, spend }, null, 2)); return 0; }
          out(`daily:   ${money(c.budgets.dailyUsd)}${spend ? `  (spent today ${money(spend.todayUsd)})` : ''}`);
          out(`monthly: ${money(c.budgets.monthlyUsd)}${spend ? `  (spent this month ${money(spend.monthUsd)})` : ''}`);
          out(`session: ${money(c.budgets.sessionUsd)}`);
          out(`alerts at: ${c.budgets.alertAt.map((t) => `${Math.round(t * 100)}%`).join(', ')}`);
          for (const t of tokens) out(`token ${t.token}: daily ${money(t.dailyUsd)}, monthly ${money(t.monthlyUsd)}`);
          return 0;
        }
        if (sub === 'set' || sub === 'clear') {
          const which = a1;
          const valid = o.token ? ['daily', 'monthly', ...(sub === 'clear' ? ['all'] : [])] : ['daily', 'monthly', 'session', ...(sub === 'clear' ? ['all'] : [])];
          if (!which || !valid.includes(which)) throw new ControlUsageError(`budget ${sub} takes one of ${valid.join(', ')}${o.token ? ' with --token' : ''}`);
          const value = sub === 'set' ? usdArg(a2 ?? '', 'budget set') : null;
          if (sub === 'set' && value === null) throw new ControlUsageError('use `sluice budget clear` to remove a budget');
          const keys = which === 'all' ? (o.token ? ['daily', 'monthly'] : ['daily', 'monthly', 'session']) : [which];
          if (o.token) {
            const name = o.token;
            await save(`budget.${sub}`, `token:${name}`, (c) => {
              const before = c.tokens[name] ? { ...c.tokens[name] } : null;
              const t = c.tokens[name] ?? TokenPolicySchema.parse({});
              for (const k of keys) t[k === 'daily' ? 'dailyUsd' : 'monthlyUsd'] = value;
              c.tokens[name] = t;
              return { before, after: t };
            });
            out(`${sub === 'set' ? 'Set' : 'Cleared'} the ${keys.join(' and ')} budget of token "${name}"${value !== null ? ` to ${money(value)}` : ''}.`);
          } else {
            await save(`budget.${sub}`, keys.join(','), (c) => {
              const before = { ...c.budgets };
              for (const k of keys) c.budgets[`${k}Usd` as 'dailyUsd' | 'monthlyUsd' | 'sessionUsd'] = value;
              return { before, after: c.budgets };
            });
            out(`${sub === 'set' ? 'Set' : 'Cleared'} the ${keys.join(' and ')} budget${value !== null ? ` to ${money(value)}` : ''}.`);
          }
          return 0;
        }
        throw new ControlUsageError('budget: expected list, set or clear');
      }
      case 'token': {
        const name = a1;
        if (sub !== 'policy' || !name) throw new ControlUsageError('expected `sluice token policy <name> [options]`');
        const edits = ['models', 'daily', 'monthly', 'rpm', 'tpm', 'burst-requests', 'burst-tokens', 'expires', 'cache'].filter((k) => o[k as keyof typeof o] !== undefined);
        if (edits.length === 0 && !o.clear) {
          const t = config.get().tokens[name];
          // The buckets live in the running gateway; without one there is no state to show.
          const buckets = gateway && t && (t.requestsPerMinute !== null || t.tokensPerMinute !== null)
            ? (await callGateway<{ rateLimits?: RateLimitStatus[] }>(gateway, 'GET', '/control/status').catch(() => null))?.rateLimits?.find((b) => b.token === name) ?? null
            : null;
          if (o.json) { out(JSON.stringify(t ? { ...t, buckets: buckets ? { requests: buckets.requests, tokens: buckets.tokens } : null } : null, null, 2)); return 0; }
          if (!t) { out(`Token "${name}" has no policy (any model, no limits).`); return 0; }
          const burst = (n: number | null) => (n === null ? '' : ` (burst ${formatInt(n)})`);
          const bucketLine = (b: RateLimitStatus['requests'], unit: string) => b && `${formatInt(Math.max(0, Math.floor(b.level)))} of ${formatInt(b.capacity)} ${unit} left${b.fullInSeconds > 0 ? `, full in ${formatDuration(b.fullInSeconds * 1000)}` : ''}`;
          const live = buckets ? [bucketLine(buckets.requests, 'requests'), bucketLine(buckets.tokens, 'tokens')].filter(Boolean).join('; ') : null;
          out([
            `models:   ${t.models.length ? t.models.join(', ') : 'any'}`,
            `budget:   daily ${money(t.dailyUsd)}, monthly ${money(t.monthlyUsd)}`,
            `rate:     ${t.requestsPerMinute === null ? '-' : formatInt(t.requestsPerMinute)} requests/min${burst(t.burstRequests)}, ${t.tokensPerMinute === null ? '-' : formatInt(t.tokensPerMinute)} tokens/min${burst(t.burstTokens)}`,
            ...(live ? [`buckets:  ${live}`] : []),
            `expires:  ${t.expires ?? 'never'}`,
            `cache injection: ${t.injectCache ? 'on' : 'off'}`,
          ].join('\n'));
          return 0;
        }
        if (o.cache !== undefined && o.cache !== 'on' && o.cache !== 'off') throw new ControlUsageError('--cache takes on or off');
        const next = await save(o.clear && edits.length === 0 ? 'policy.delete' : 'policy.update', `token:${name}`, (c) => {
          const before = c.tokens[name] ?? null;
          if (o.clear) delete c.tokens[name];
          if (edits.length === 0) return { before, after: null };
          const t = c.tokens[name] ?? TokenPolicySchema.parse({});
          if (o.models !== undefined) t.models = o.models === 'none' || o.models === '' ? [] : o.models.split(',').map((s) => s.trim()).filter(Boolean);
          if (o.daily !== undefined) t.dailyUsd = usdArg(o.daily, '--daily');
          if (o.monthly !== undefined) t.monthlyUsd = usdArg(o.monthly, '--monthly');
          if (o.rpm !== undefined) t.requestsPerMinute = intArg(o.rpm, '--rpm');
          if (o.tpm !== undefined) t.tokensPerMinute = intArg(o.tpm, '--tpm');
          if (o['burst-requests'] !== undefined) t.burstRequests = intArg(o['burst-requests'], '--burst-requests');
          if (o['burst-tokens'] !== undefined) t.burstTokens = intArg(o['burst-tokens'], '--burst-tokens');
          if (o.expires !== undefined) t.expires = o.expires === 'none' ? null : o.expires;
          if (o.cache !== undefined) t.injectCache = o.cache === 'on';
          c.tokens[name] = t;
          return { before, after: t };
        });
        out(next.tokens[name] ? `Updated the policy of token "${name}".` : `Removed the policy of token "${name}".`);
        return 0;
      }
      case 'guard': {
        if (sub !== 'test' || !a1) throw new ControlUsageError('expected `sluice guard test <file>`');
        const text = await fs.readFile(join(io.cwd ?? process.cwd(), a1), 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new ControlUsageError(`cannot read ${a1}: ${err.code ?? err.message}`);
        });
        let guard = REDACT_ALL;
        if (o.policy !== undefined) {
          const pol = config.get().guardrails.policies.find((x) => x.name === o.policy);
          if (!pol) throw new ControlUsageError(`no guardrail policy named "${o.policy}"`);
          guard = compileGuard(pol) ?? { ...REDACT_ALL, detectors: [] };
        }
        const findings = scanPlainText(text, guard);
        if (o.json) out(JSON.stringify({ file: a1, findings }, null, 2));
        else if (findings.length === 0) out(`${a1}: nothing found by ${guard.detectors.length} detector(s).`);
        else for (const f of findings) out(`${a1}:${f.line}:${f.column}  ${f.detector}  (${f.length} chars, action ${f.action})`);
        return findings.length ? 1 : 0;
      }
      case 'capture': {
        if (sub === 'status') {
          const c = config.get().capture;
          const files = await captureFiles(join(dataDir, CAPTURE_DIR));
          const st = { ...c, dir: join(dataDir, CAPTURE_DIR), ...files };
          if (o.json) { out(JSON.stringify(st, null, 2)); return 0; }
          out(`capture: ${c.enabled ? 'ON' : 'off'}${c.enabled ? ` (${c.tokens.length ? c.tokens.join(', ') : 'all callers'})` : ''}`);
          out(`retention: ${c.retentionHours} h, cap ${c.maxTotalMb} MB; ${files.files} file(s), ${(files.bytes / 1024 / 1024).toFixed(1)} MB in ${st.dir}`);
          return 0;
        }
        if (sub !== 'on' && sub !== 'off') throw new ControlUsageError('capture: expected on, off or status');
        await save(`capture.${sub}`, 'capture', (c) => {
          const before = { ...c.capture };
          c.capture.enabled = sub === 'on';
          if (o.token !== undefined) c.capture.tokens = o.token === 'all' ? [] : o.token.split(',').map((s) => s.trim()).filter(Boolean);
          if (o['retention-hours'] !== undefined) c.capture.retentionHours = Number(o['retention-hours']);
          if (o['max-mb'] !== undefined) c.capture.maxTotalMb = Number(o['max-mb']);
          return { before, after: c.capture };
        });
        if (sub === 'on') io.stderr('sluice: body capture is ON. Request bodies (redacted) will be written to disk until `sluice capture off`.\n');
        out(`Capture ${sub}.`);
        return 0;
      }
      case 'audit': {
        if (sub) throw new ControlUsageError('audit takes no argument');
        const limit = o.limit === undefined ? 50 : intArg(o.limit, '--limit') ?? 50;
        const entries = store.listAudit({ limit });
        if (o.json) { out(JSON.stringify({ entries }, null, 2)); return 0; }
        if (entries.length === 0) out('No configuration changes recorded.');
        for (const e of entries) out(`${new Date(e.ts).toISOString()}  ${e.source.padEnd(5)}  ${e.action.padEnd(18)}  ${e.target}`);
        return 0;
      }
      default:
        throw new ControlUsageError(`unknown control command "${cmd ?? ''}"`);
    }
  } catch (err) {
    if (err instanceof ControlUsageError) { io.stderr(`sluice: ${err.message}\n${CONTROL_HELP}`); return 2; }
    if (err instanceof ControlSettingsError) { io.stderr(`sluice: ${err.message}\n`); return 1; }
    io.stderr(`sluice: ${(err as Error).message}\n`);
    return 1;
  } finally {
    store.close();
  }
}

function spendNow(dataDir: string, ts: number, tz: TzOffset): { todayUsd: number; monthUsd: number } | null {
  const path = join(dataDir, 'ledger.sqlite');
  if (!existsSync(path)) return null;
  const ledger = openLedger(path);
  try {
    const day = localDay(ts, tz);
    const cost = (since: number) => ledger.totals({ since, until: ts + 1 }).costUsd ?? 0;
    return { todayUsd: cost(localDayStart(day, tz)), monthUsd: cost(localDayStart(`${day.slice(0, 7)}-01`, tz)) };
  } finally {
    ledger.close();
  }
}

async function captureFiles(dir: string): Promise<{ files: number; bytes: number }> {
  let names: string[] = [];
  try { names = await fs.readdir(dir); } catch { return { files: 0, bytes: 0 }; }
  let bytes = 0;
  let files = 0;
  for (const n of names) {
    if (n.startsWith('.')) continue;
    try { bytes += (await fs.stat(join(dir, n))).size; files++; } catch { /* removed meanwhile */ }
  }
  return { files, bytes };
}
