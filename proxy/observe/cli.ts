// The observability commands of `sluice`: export, stats --by tag, token tag, webhook ..., observe
// .... cli-main.ts hands matching argv here. All I/O through the injected io; settings, ledger
// and keychain opened per command. Never imports the gateway or the pipeline.
import { randomBytes } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { formatCost, ledgerPath } from '../cli-ledger.js';
import { renderTable, useColor } from '../cli-table.js';
import { formatInt, formatTokens } from '../format.js';
import { openLedger, type ReportRow } from '../ledger/index.js';
import { readFileIfExists } from '../store/atomic-file.js';
import { createKeychainStore, type SecretStore } from '../store/secrets.js';
import { openCliSettings } from '../cli-settings.js';
import { createTokenStore } from '../store/tokens.js';
import { VERSION } from '../version.js';
import { createDeliveryLog, DELIVERY_LOG_FILE, readDeliveryLog } from './delivery-log.js';
import { exportLedger, openAtomicFile, type ExportFormat } from './export.js';
import { OBSERVE_STATUS_PATH } from './routes.js';
import { OTLP_SECRET_ACCOUNT, TagsSchema, webhookSecretAccount, WebhookSchema, type WebhookSettings } from './schema.js';
import { createWebhookDispatcher, hostOf, webhookUrlWarning } from './webhooks.js';

export interface ObserveCliIo {
  cwd?: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readStdin: () => Promise<string>;
  env: Record<string, string | undefined>;
  /** stdout is a terminal: tables may be coloured (never under NO_COLOR). */
  isTTY?: boolean;
  secrets?: () => SecretStore;
}

export class ObserveCliUsageError extends Error {}

export const OBSERVE_HELP = `Observability:
  sluice export [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--format csv|jsonl] [--out FILE]
  sluice stats --by tag --tag KEY [--since ..] [--until ..] [--json]   spend per tag value
  sluice token create <name> --tag team=infra --tag project=x           billing tags on a token
  sluice token tag <name|id> [k=v ...]    replaces the token's tags (none clears them)
  sluice webhook add <url> [--event budget|breaker|fallback|*]... [--id ID]   prints its signing secret once
  sluice webhook list | remove <id> | secret <id> | test [id] | log [--limit N]
  sluice observe status [--json]
  sluice observe enable [--endpoint URL] [--header k=v]... [--secret-header NAME] | disable
  sluice observe credential            reads the collector header value from stdin into the keychain
`;

/** Flags that take a value, so their values are not mistaken for the command words. */
const VALUE_FLAGS = new Set(['data-dir', 'since', 'until', 'format', 'out', 'tag', 'by', 'limit', 'event', 'id', 'endpoint', 'header', 'secret-header', 'port', 'log-level', 'dir', 'session']);

function wordsAndBy(argv: readonly string[]): { words: string[]; by: string | undefined } {
  const words: string[] = [];
  let by: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq === -1 ? undefined : eq);
      const value = eq === -1 ? (VALUE_FLAGS.has(name) ? argv[++i] : undefined) : a.slice(eq + 1);
      if (name === 'by') by = value;
    } else if (!a.startsWith('-')) {
      words.push(a);
    }
  }
  return { words, by };
}

/** Whether cli-main should hand `argv` to runObserveCli. */
export function isObserveCommand(argv: readonly string[]): boolean {
  const { words: [cmd, sub], by } = wordsAndBy(argv);
  return cmd === 'export' || cmd === 'webhook' || cmd === 'observe' || (cmd === 'token' && sub === 'tag') || (cmd === 'stats' && by === 'tag');
}

/** `k=v` arguments as a tag object, validated like the token schema does. */
export function parseTagArgs(args: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ObserveCliUsageError(`a tag is key=value, got "${a.slice(0, 80)}"`);
    const k = a.slice(0, eq);
    if (Object.hasOwn(tags, k)) throw new ObserveCliUsageError(`tag "${k.slice(0, 40)}" is given twice`);
    tags[k] = a.slice(eq + 1);
  }
  const r = TagsSchema.safeParse(tags);
  if (!r.success) throw new ObserveCliUsageError(`invalid tags: ${r.error.issues.map((i) => `${i.path.join('.') || 'tags'}: ${i.message}`).join('; ')}`);
  return r.data;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
function dateArg(flag: string, v: string | undefined): string | undefined {
  if (v !== undefined && !DATE_RE.test(v)) throw new ObserveCliUsageError(`${flag} takes a date as YYYY-MM-DD, got "${v.slice(0, 40)}"`);
  return v;
}

const n = (v: number) => formatInt(v);

const RESTART_NOTE = 'A running gateway applies this after `sluice serve` is restarted.\n';

export async function runObserveCli(argv: string[], io: ObserveCliIo, dataDir: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        by: { type: 'string' },
        tag: { type: 'string', multiple: true },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        event: { type: 'string', multiple: true },
        id: { type: 'string' },
        endpoint: { type: 'string' },
        header: { type: 'string', multiple: true },
        'secret-header': { type: 'string' },
      },
    });
  } catch (err) {
    io.stderr(`sluice: ${(err as Error).message}\nRun \`sluice --help\` for usage.\n`);
    return 2;
  }
  const { values: v, positionals: [cmd, sub, ...rest] } = parsed;
  const secrets = () => (io.secrets ?? (() => createKeychainStore()))();
  try {
    switch (cmd) {
      case 'export': return await exportCmd(io, dataDir, v);
      case 'stats': return tagStats(io, dataDir, v);
      case 'token': {
        if (!rest[0]) throw new ObserveCliUsageError('token tag needs a token name or id, e.g. `sluice token tag claude-code team=infra`');
        const tags = parseTagArgs(rest.slice(1));
        const record = await createTokenStore((await openCliSettings(dataDir)).settings).setTags(rest[0], tags);
        const list = Object.entries(record.tags ?? {}).map(([k, x]) => `${k}=${x}`).join(' ');
        io.stdout(`Token "${record.name}" tags: ${list || '(none)'}\n`);
        io.stderr(RESTART_NOTE);
        return 0;
      }
      case 'webhook': return await webhookCmd(io, dataDir, secrets, sub, rest, v);
      case 'observe': return await observeCmd(io, dataDir, secrets, sub, v);
      default: throw new ObserveCliUsageError(`unknown command "${cmd ?? ''}"`);
    }
  } catch (err) {
    if (err instanceof ObserveCliUsageError) {
      io.stderr(`sluice: ${err.message}\nRun \`sluice --help\` for usage.\n`);
      return 2;
    }
    io.stderr(`sluice: ${(err as Error).message}\n`);
    return 1;
  }
}

type Values = { since?: string; until?: string; format?: string; out?: string; tag?: string[]; limit?: string; json?: boolean; event?: string[]; id?: string; endpoint?: string; header?: string[]; 'secret-header'?: string };

async function exportCmd(io: ObserveCliIo, dataDir: string, v: Values): Promise<number> {
  const format = (v.format ?? 'csv') as ExportFormat;
  if (format !== 'csv' && format !== 'jsonl') throw new ObserveCliUsageError(`--format takes csv or jsonl, got "${String(v.format).slice(0, 20)}"`);
  const since = dateArg('--since', v.since);
  const until = dateArg('--until', v.until);
  const ledger = openLedger(ledgerPath(dataDir));
  try {
    if (v.out === undefined) {
      const rows = await exportLedger(ledger, { since, until, format }, (chunk) => io.stdout(chunk));
      io.stderr(`Exported ${n(rows)} requests.\n`);
      return 0;
    }
    const out = isAbsolute(v.out) ? v.out : join(io.cwd ?? process.cwd(), v.out);
    const file = await openAtomicFile(out);
    let rows: number;
    try {
      rows = await exportLedger(ledger, { since, until, format }, (chunk) => file.write(chunk));
    } catch (err) {
      await file.abort();
      throw err;
    }
    await file.commit();
    io.stderr(`Exported ${n(rows)} requests to ${out}.\n`);
    return 0;
  } finally {
    ledger.close();
  }
}

function tagStats(io: ObserveCliIo, dataDir: string, v: Values): number {
  const key = v.tag?.at(-1);
  if (!key) throw new ObserveCliUsageError('stats --by tag needs --tag KEY, e.g. `sluice stats --by tag --tag team`');
  const since = dateArg('--since', v.since);
  const until = dateArg('--until', v.until);
  const limit = v.limit === undefined ? 1000 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new ObserveCliUsageError('--limit takes 1-100000');
  const ledger = openLedger(ledgerPath(dataDir));
  let rows: ReportRow[];
  try {
    rows = ledger.report({ by: 'tag', tagKey: key, since, until, limit });
  } finally {
    ledger.close();
  }
  if (v.json) {
    io.stdout(`${JSON.stringify({ by: 'tag', tag: key, since: since ?? null, until: until ?? null, rows }, null, 2)}\n`);
    return 0;
  }
  // The shared CLI table: 100 columns (cache columns go first), colour on a terminal unless NO_COLOR.
  io.stdout(renderTable([
    { head: key, min: 16 }, { head: 'requests', align: 'right' }, { head: 'errors', align: 'right', drop: 3 },
    { head: 'input', align: 'right', drop: 4 }, { head: 'output', align: 'right', drop: 5 }, { head: 'cache write', align: 'right', drop: 1 },
    { head: 'cache read', align: 'right', drop: 2 }, { head: 'cost', align: 'right', style: (c) => (c.includes('unpriced') ? 'yellow' : null) },
  ], rows.map((r) => [
    r.key || '(untagged)', n(r.requests), n(r.errors), formatTokens(r.inputTokens), formatTokens(r.outputTokens), formatTokens(r.cacheWriteTokens), formatTokens(r.cacheReadTokens), formatCost(r),
  ]), { color: useColor(io) }));
  return 0;
}

const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

async function webhookCmd(io: ObserveCliIo, dataDir: string, secrets: () => SecretStore, sub: string | undefined, rest: string[], v: Values): Promise<number> {
  const { settings } = await openCliSettings(dataDir);
  const hooks = () => settings.get().observe.webhooks;
  const find = (id: string | undefined): WebhookSettings => {
    if (!id) throw new ObserveCliUsageError(`webhook ${sub} needs a webhook id (see \`sluice webhook list\`)`);
    const h = hooks().find((x) => x.id === id);
    if (!h) throw new Error(`No webhook "${id.slice(0, 40)}"; see \`sluice webhook list\`.`);
    return h;
  };
  switch (sub) {
    case 'add': {
      const url = rest[0];
      if (!url) throw new ObserveCliUsageError('webhook add needs a URL, e.g. `sluice webhook add https://hooks.example.com/sluice`');
      let id = v.id;
      if (id === undefined) for (let i = 1; id === undefined || hooks().some((h) => h.id === id); i++) id = `hook-${i}`;
      const parsed = WebhookSchema.safeParse({ id, url, ...(v.event ? { events: v.event } : {}) });
      if (!parsed.success) throw new ObserveCliUsageError(`invalid webhook: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (hooks().some((h) => h.id === id)) throw new Error(`A webhook "${id}" exists; remove it first or pick another --id.`);
      const secret = newSecret();
      // Keychain first: a webhook in settings without its secret would fail every delivery.
      await secrets().set(webhookSecretAccount(parsed.data.id), secret);
      await settings.update((s) => { s.observe.webhooks.push(parsed.data); });
      const warning = webhookUrlWarning(parsed.data.url);
      if (warning) io.stderr(`warning: ${warning}\n`);
      io.stderr(`Added webhook "${parsed.data.id}" for ${parsed.data.events.join(', ')} alerts. Its signing secret is shown once (kept in the OS keychain):\n${RESTART_NOTE}`);
      io.stdout(`${secret}\n`);
      return 0;
    }
    case 'list': {
      if (v.json) {
        io.stdout(`${JSON.stringify(hooks().map((h) => ({ id: h.id, host: hostOf(h.url), events: h.events, enabled: h.enabled })), null, 2)}\n`);
        return 0;
      }
      if (hooks().length === 0) io.stdout('No webhooks. Add one with `sluice webhook add <url>`.\n');
      // The host only: a webhook URL's path often is its credential (chat-service hooks).
      for (const h of hooks()) io.stdout(`${h.id.padEnd(16)} ${hostOf(h.url).padEnd(32)} ${h.events.join(',')}${h.enabled ? '' : '  (disabled)'}\n`);
      return 0;
    }
    case 'remove': {
      const h = find(rest[0]);
      await settings.update((s) => { s.observe.webhooks = s.observe.webhooks.filter((x) => x.id !== h.id); });
      try {
        await secrets().delete(webhookSecretAccount(h.id));
      } catch (err) {
        io.stderr(`warning: could not delete its secret from the keychain: ${(err as Error).message}\n`);
      }
      io.stdout(`Removed webhook "${h.id}".\n`);
      io.stderr(RESTART_NOTE);
      return 0;
    }
    case 'secret': {
      const h = find(rest[0]);
      const secret = newSecret();
      await secrets().set(webhookSecretAccount(h.id), secret);
      io.stderr(`New signing secret for webhook "${h.id}" (the old one no longer signs; a running gateway picks it up within a minute):\n`);
      io.stdout(`${secret}\n`);
      return 0;
    }
    case 'test': {
      const targets = rest[0] ? [find(rest[0])] : hooks();
      if (targets.length === 0) throw new Error('No webhooks to test; add one with `sluice webhook add <url>`.');
      const store = secrets();
      const log = createDeliveryLog({ file: join(dataDir, DELIVERY_LOG_FILE), maxBytes: () => settings.get().observe.webhookDelivery.logMaxBytes, onError: (e) => io.stderr(`warning: delivery log: ${e.message}\n`) });
      const dispatcher = createWebhookDispatcher({
        webhooks: () => targets,
        delivery: () => settings.get().observe.webhookDelivery,
        secretOf: (id) => store.get(webhookSecretAccount(id)),
        log, version: VERSION,
        logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, addSecret: () => {} },
      });
      let failed = 0;
      for (const h of targets) {
        const r = await dispatcher.deliver(h, { kind: 'test', level: 'info', ts: Date.now(), message: 'Test alert from `sluice webhook test`.', data: { webhook: h.id } });
        if (!r.ok) failed++;
        io.stdout(`${h.id.padEnd(16)} ${hostOf(h.url).padEnd(32)} ${r.ok ? `delivered (HTTP ${r.status})` : `FAILED: ${r.error}`}  attempts ${r.attempts}\n`);
      }
      await dispatcher.close();
      return failed > 0 ? 1 : 0;
    }
    case 'log': {
      const limit = v.limit === undefined ? 50 : Number(v.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new ObserveCliUsageError('--limit takes 1-10000');
      const entries = await readDeliveryLog(join(dataDir, DELIVERY_LOG_FILE), limit);
      if (v.json) {
        io.stdout(`${JSON.stringify(entries, null, 2)}\n`);
        return 0;
      }
      if (entries.length === 0) io.stdout('No webhook deliveries logged.\n');
      for (const e of entries) io.stdout(`${e.ts}  ${e.webhook.padEnd(12)} ${e.event.padEnd(9)} #${e.attempt} ${e.ok ? 'ok' : 'failed'} ${e.status ?? '-'}${e.error ? ` ${e.error}` : ''}\n`);
      return 0;
    }
    default: throw new ObserveCliUsageError(`webhook ${sub ?? ''}: expected add, list, remove, secret, test or log`);
  }
}

/** The running gateway's live counters, via the admin runtime file `sluice serve` publishes. */
async function liveStatus(dataDir: string): Promise<{ status: unknown } | { error: string }> {
  const text = await readFileIfExists(join(dataDir, 'admin.json'));
  if (text === null) return { error: 'no running gateway found' };
  let info: { url?: unknown; token?: unknown };
  try {
    info = JSON.parse(text) as typeof info;
  } catch {
    return { error: 'admin.json is not valid JSON' };
  }
  if (typeof info.url !== 'string' || typeof info.token !== 'string') return { error: 'admin.json lacks url or token' };
  try {
    const res = await request(`${info.url}${OBSERVE_STATUS_PATH}`, { headers: { authorization: `Bearer ${info.token}` }, signal: AbortSignal.timeout(3000) });
    const body = await res.body.text();
    if (res.statusCode !== 200) return { error: `the gateway answered ${res.statusCode}` };
    return { status: JSON.parse(body) as unknown };
  } catch (err) {
    return { error: `the gateway at ${info.url} does not answer (${(err as { code?: string }).code ?? (err as Error).message})` };
  }
}

async function observeCmd(io: ObserveCliIo, dataDir: string, secrets: () => SecretStore, sub: string | undefined, v: Values): Promise<number> {
  const { settings } = await openCliSettings(dataDir);
  switch (sub) {
    case 'status': {
      const o = settings.get().observe;
      const live = await liveStatus(dataDir);
      if (v.json) {
        io.stdout(`${JSON.stringify({ settings: { otlp: { ...o.otlp, headers: Object.keys(o.otlp.headers) }, webhooks: o.webhooks.map((h) => ({ id: h.id, host: hostOf(h.url), events: h.events, enabled: h.enabled })) }, live: 'status' in live ? live.status : null, liveError: 'error' in live ? live.error : null }, null, 2)}\n`);
        return 0;
      }
      io.stdout(`OTLP export: ${o.otlp.enabled ? `on -> ${o.otlp.endpoint} (traces ${o.otlp.traces ? 'on' : 'off'}, metrics ${o.otlp.metrics ? 'on' : 'off'})` : 'off'}\n`);
      if (o.otlp.secretHeader) io.stdout(`  credential header: ${o.otlp.secretHeader} (from the keychain, account ${OTLP_SECRET_ACCOUNT})\n`);
      io.stdout(`Webhooks: ${o.webhooks.length === 0 ? 'none' : o.webhooks.map((h) => `${h.id} (${hostOf(h.url)}: ${h.events.join(',')})`).join(', ')}\n`);
      if ('error' in live) {
        io.stdout(`Live counters: unavailable (${live.error})\n`);
        return 0;
      }
      const s = live.status as { otlp: Record<string, unknown>; webhooks: Record<string, unknown> };
      const t = s.otlp;
      io.stdout(`Live: ${t.exportedSpans} spans exported, ${t.metricExports} metric exports, ${t.queued}/${t.queueLimit} queued, ${t.droppedSpans} dropped, ${t.failedExports} failed exports${t.lastError ? `, last error: ${t.lastError} (${t.lastErrorAt})` : ''}\n`);
      const w = s.webhooks;
      io.stdout(`      webhooks: ${w.delivered} delivered, ${w.failed} failed, ${w.pending} pending, ${w.dropped} dropped\n`);
      return 0;
    }
    case 'enable': {
      const headers = v.header ? parseHeaderArgs(v.header) : undefined;
      await settings.update((s) => {
        s.observe.otlp.enabled = true;
        if (v.endpoint !== undefined) s.observe.otlp.endpoint = v.endpoint;
        if (headers) s.observe.otlp.headers = headers;
        if (v['secret-header'] !== undefined) s.observe.otlp.secretHeader = v['secret-header'] === '' ? null : v['secret-header'];
      });
      const o = settings.get().observe.otlp;
      io.stdout(`OTLP export on -> ${o.endpoint}${o.secretHeader ? ` (header ${o.secretHeader} from the keychain; set it with \`sluice observe credential\`)` : ''}\n`);
      io.stderr(RESTART_NOTE);
      return 0;
    }
    case 'disable': {
      await settings.update((s) => { s.observe.otlp.enabled = false; });
      io.stdout('OTLP export off.\n');
      io.stderr(RESTART_NOTE);
      return 0;
    }
    case 'credential': {
      const value = (await io.readStdin()).trim();
      if (!value) throw new ObserveCliUsageError('no value on stdin: pipe the collector header value in, e.g. `sluice observe credential < token-file`');
      if (/[\r\n]/.test(value)) throw new ObserveCliUsageError('the value on stdin spans several lines; a header value is one line');
      await secrets().set(OTLP_SECRET_ACCOUNT, value);
      io.stdout(`Stored the collector credential in the OS keychain (account ${OTLP_SECRET_ACCOUNT}).\n`);
      return 0;
    }
    default: throw new ObserveCliUsageError(`observe ${sub ?? ''}: expected status, enable, disable or credential`);
  }
}

function parseHeaderArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ObserveCliUsageError(`--header takes name=value, got "${a.slice(0, 80)}"`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

