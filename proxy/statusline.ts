// `sluice statusline`: the command Claude Code's `statusLine` setting runs. Reads the JSON Claude
// Code writes on stdin, prints one line from the ledger: the session's metered cost, today's
// total, budget left, cache hit rate, the active profile, the route when it differs from the
// requested model, and a marker when the gateway is off or the session does not go through Sluice.
//
// It asks the running gateway (found through the runtime file `serve` publishes, with its local
// admin token, over loopback); without one it reads the ledger file read-only. It never fails
// Claude Code's render: any error prints a short plain line and exits 0, and nothing goes to
// stderr. Kept light to start fast: a plain HTTP/1.1 GET over node:net (node:http alone takes
// ~40 ms to load), the read side of the ledger and the formatters; never undici, zod or express.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
/** The runtime file `serve` publishes (admin/cli-open.ts's ADMIN_RUNTIME_FILE; not imported: it loads undici). */
const ADMIN_RUNTIME_FILE = 'admin.json';
import { paint, useColor, type CellStyle } from './cli-table.js';
import { formatPercent, formatUsd, shortModel } from './format.js';
import { localDay, systemTzOffset, type TzOffset } from './ledger/dates.js';
import { createQueries } from './ledger/queries.js';
import { openDatabase } from './ledger/sqlite.js';
import type { RequestRecord, SessionSummary } from './ledger/types.js';
import { pidAlive } from './store/file-lock.js';

/** What the line needs, whichever side answered. */
export interface FactSource {
  readonly kind: 'gateway' | 'ledger';
  /** The session's sums and its latest request, or null when the ledger has no such session. */
  session(id: string): Promise<{ summary: SessionSummary; last: RequestRecord | null } | null>;
  /** Cost of [since, until] local days, inclusive. */
  costOfDays(since: string, until: string): Promise<{ costUsd: number | null; unpricedRequests: number }>;
  /** The budgets set in Sluice (nulls: not set). */
  budgets(): Promise<{ dailyUsd: number | null; monthlyUsd: number | null; sessionUsd: number | null }>;
  /** The active profile's name (null: none); absent: this source cannot tell. */
  profile?(): Promise<string | null>;
  close(): void;
}

/** The fields of Claude Code's statusLine JSON that Sluice reads; everything is optional. */
export interface StatusInput {
  sessionId: string | null;
  projectDir: string | null;
  modelId: string | null;
}

const SAFE_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Tolerant: unknown fields are ignored, missing or mistyped ones read as null. */
export function parseStatusInput(text: string): StatusInput {
  let o: unknown = null;
  try { o = JSON.parse(text); } catch { /* not JSON: nothing known */ }
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {});
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  const root = obj(o);
  const sid = str(root.session_id);
  return {
    sessionId: sid !== null && SAFE_ID.test(sid) ? sid : null,
    projectDir: str(obj(root.workspace).project_dir) ?? str(obj(root.workspace).current_dir) ?? str(root.cwd),
    modelId: str(obj(root.model).id),
  };
}

export interface StatusFacts {
  gatewayUp: boolean;
  sessionCostUsd: number | null;
  sessionUnpriced: number;
  /** The session was seen by the gateway (false: unknown to the ledger, or only imported). */
  viaSluice: boolean;
  todayCostUsd: number | null;
  todayUnpriced: number;
  /** The tightest budget that is set: what is left of it, and which it is. */
  budget: { leftUsd: number; name: 'daily' | 'monthly' | 'session' } | null;
  /** Cache reads over all prompt tokens of the session, or null without any. */
  cacheHit: number | null;
  /** Where the session's latest request went, when that differs from what was asked for. */
  route: string | null;
  /** The active profile (`sluice profile use NAME`), or null when none is. */
  profile: string | null;
}

/** A profile name as settings allow it (proxy/profiles/schema.ts); anything else is not printed. */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,63}$/;
const profileName = (v: unknown): string | null => (typeof v === 'string' && PROFILE_NAME.test(v) ? v : null);

/** Everything the line shows, from one source. */
export async function gatherFacts(src: FactSource, input: StatusInput, now: number, tz: TzOffset = systemTzOffset): Promise<StatusFacts> {
  const today = localDay(now, tz);
  const [session, day, budgets, profile] = await Promise.all([
    input.sessionId === null ? Promise.resolve(null) : src.session(input.sessionId),
    src.costOfDays(today, today),
    src.budgets(),
    src.profile ? src.profile() : Promise.resolve(null),
  ]);
  const s = session?.summary ?? null;
  const lefts: { leftUsd: number; name: 'daily' | 'monthly' | 'session' }[] = [];
  if (budgets.dailyUsd !== null) lefts.push({ leftUsd: budgets.dailyUsd - (day.costUsd ?? 0), name: 'daily' });
  if (budgets.monthlyUsd !== null) {
    const month = await src.costOfDays(`${today.slice(0, 7)}-01`, today);
    lefts.push({ leftUsd: budgets.monthlyUsd - (month.costUsd ?? 0), name: 'monthly' });
  }
  if (budgets.sessionUsd !== null && s !== null) lefts.push({ leftUsd: budgets.sessionUsd - (s.costUsd ?? 0), name: 'session' });
  const budget = lefts.length === 0 ? null : lefts.reduce((a, b) => (b.leftUsd < a.leftUsd ? b : a));
  const prompt = s === null ? 0 : s.inputTokens + s.cacheReadTokens + s.cacheWriteTokens;
  const last = session?.last ?? null;
  let route: string | null = null;
  if (last !== null && last.servedModel !== null) {
    const asked = last.requestedModel ?? input.modelId;
    // The default target (Anthropic itself) is no route worth naming.
    const where = last.target !== null && last.target !== 'anthropic' ? last.target : (last.provider !== 'anthropic' ? last.provider : null);
    if ((asked !== null && last.servedModel !== asked) || last.fallback || where !== null) {
      route = `${shortModel(last.servedModel)}${where !== null ? ` via ${where}` : ''}${last.fallback ? ' (fallback)' : ''}`;
    }
  }
  return {
    gatewayUp: src.kind === 'gateway',
    sessionCostUsd: s === null ? null : s.costUsd,
    sessionUnpriced: s?.unpricedRequests ?? 0,
    viaSluice: s !== null && s.viaGateway,
    todayCostUsd: day.costUsd,
    todayUnpriced: day.unpricedRequests,
    budget,
    cacheHit: prompt > 0 ? s!.cacheReadTokens / prompt : null,
    route,
    profile: profileName(profile),
  };
}

/** The one line. Colour only where `color` (the caller applied NO_COLOR). */
export function renderStatusLine(f: StatusFacts, color: boolean): string {
  const p = (t: string, st: CellStyle) => paint(t, st, color);
  const cost = (usd: number | null, unpriced: number) => (usd === null ? 'unpriced' : `${formatUsd(usd)}${unpriced > 0 ? '+?' : ''}`);
  const parts: string[] = [p('Sluice', 'bold')];
  if (!f.gatewayUp) parts.push(p('off', 'red'));
  else if (!f.viaSluice) parts.push(p('not via Sluice', 'yellow'));
  if (f.viaSluice || f.sessionCostUsd !== null) parts.push(`session ${p(cost(f.sessionCostUsd, f.sessionUnpriced), 'cyan')}`);
  parts.push(`today ${cost(f.todayCostUsd, f.todayUnpriced)}`);
  if (f.budget !== null) {
    const over = f.budget.leftUsd <= 0;
    parts.push(p(over ? `${f.budget.name} budget spent` : `${formatUsd(f.budget.leftUsd)} left ${f.budget.name}`, over ? 'red' : f.budget.leftUsd < 1 ? 'yellow' : null));
  }
  if (f.cacheHit !== null) parts.push(`cache ${formatPercent(f.cacheHit, 0)}`);
  if (f.profile !== null) parts.push(`profile ${p(f.profile, 'bold')}`);
  if (f.route !== null) parts.push(p(`→ ${f.route}`, 'yellow'));
  return parts.join(p(' · ', 'dim'));
}

// --- sources ----------------------------------------------------------------------------------

interface Runtime { url: string; token: string }

function runningGateway(dataDir: string): Runtime | null {
  let info: { url?: unknown; token?: unknown; pid?: unknown };
  try {
    info = JSON.parse(readFileSync(join(dataDir, ADMIN_RUNTIME_FILE), 'utf8')) as typeof info;
  } catch {
    return null;
  }
  if (typeof info.url !== 'string' || typeof info.token !== 'string' || typeof info.pid !== 'number' || !pidAlive(info.pid)) return null;
  // Loopback only: the admin token never leaves the machine.
  if (!/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?$/.test(info.url.replace(/\/+$/, ''))) return null;
  return { url: info.url.replace(/\/+$/, ''), token: info.token };
}

class NotFound extends Error {}

/** Body of `Transfer-Encoding: chunked`. */
function unchunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', i);
    if (eol === -1) break;
    const size = parseInt(buf.subarray(i, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** One request of the admin API on loopback (GET, or POST with a JSON body): HTTP/1.1, Connection: close, read to the end. */
function getJson<T>(rt: Runtime, path: string, timeoutMs: number, post?: unknown): Promise<T> {
  const url = new URL(rt.url);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(new Error('gateway did not answer in time')), timeoutMs);
    sock.on('connect', () => {
      // write, not end: a half-closed socket lets the server drop a request it has not answered yet.
      const body = post === undefined ? null : Buffer.from(JSON.stringify(post), 'utf8');
      sock.write(`${body ? 'POST' : 'GET'} /admin/api${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${rt.token}\r\n`
        + (body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : '')
        + 'Accept: application/json\r\nX-Sluice-Source: statusline\r\nConnection: close\r\n\r\n');
      if (body) sock.write(body);
    });
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const headEnd = raw.indexOf('\r\n\r\n');
      if (headEnd === -1) return reject(new Error('gateway closed the connection'));
      const head = raw.subarray(0, headEnd).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
      if (status === 404) return reject(new NotFound());
      if (status !== 200) return reject(new Error(`gateway answered ${status || 'garbage'}`));
      let body: Buffer = raw.subarray(headEnd + 4);
      if (/^transfer-encoding:\s*chunked/im.test(head)) body = unchunk(body);
      try { resolve(JSON.parse(body.toString('utf8')) as T); } catch (err) { reject(err as Error); }
    });
  });
}

interface SessionDoc { session: SessionSummary; requests: RequestRecord[] }

export function gatewaySource(rt: Runtime, timeoutMs = 500): FactSource {
  const get = <T>(path: string) => getJson<T>(rt, path, timeoutMs);
  const orNull = <T>(p: Promise<T>) => p.catch((err: unknown) => { if (err instanceof NotFound) return null; throw err; });
  return {
    kind: 'gateway',
    async session(id) {
      const enc = encodeURIComponent(id);
      const first = await orNull(get<SessionDoc>(`/sessions/${enc}?limit=1`));
      if (first === null) return null;
      const n = first.session.requests;
      const lastDoc = n > 1 ? await orNull(get<SessionDoc>(`/sessions/${enc}?limit=1&offset=${n - 1}`)) : first;
      return { summary: first.session, last: lastDoc?.requests[0] ?? first.requests[0] ?? null };
    },
    async costOfDays(since, until) {
      const r = await get<{ rows: { costUsd: number | null; unpricedRequests: number; billedRequests: number }[] }>(`/report?by=day&since=${since}&until=${until}`);
      return sumCosts(r.rows);
    },
    async budgets() {
      const b = await orNull(get<Partial<Record<'dailyUsd' | 'monthlyUsd' | 'sessionUsd', unknown>>>('/control/budgets'));
      return budgetsOf(b);
    },
    async profile() {
      const r = await orNull(get<{ active?: unknown }>('/profiles'));
      return profileName(r?.active);
    },
    close() {},
  };
}

function sumCosts(rows: { costUsd: number | null; unpricedRequests: number; billedRequests: number }[]): { costUsd: number | null; unpricedRequests: number } {
  let usd = 0;
  let unpriced = 0;
  let billed = 0;
  for (const r of rows) {
    usd += r.costUsd ?? 0;
    unpriced += r.unpricedRequests;
    billed += r.billedRequests;
  }
  return { costUsd: billed > 0 && unpriced === billed ? null : usd, unpricedRequests: unpriced };
}

function budgetsOf(b: Partial<Record<'dailyUsd' | 'monthlyUsd' | 'sessionUsd', unknown>> | null | undefined) {
  const v = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : null);
  return { dailyUsd: v(b?.dailyUsd), monthlyUsd: v(b?.monthlyUsd), sessionUsd: v(b?.sessionUsd) };
}

/** settings.json, read as plain JSON and never written (the gateway validates it; a bad file shows nothing from it). */
function settingsFile(dataDir: string): { control?: { budgets?: Record<string, unknown> }; profiles?: { active?: unknown; list?: unknown } } | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as ReturnType<typeof settingsFile>;
  } catch {
    return null;
  }
}

/** The ledger file opened read-only (no migration, no write lock); null when there is none. */
export function ledgerSource(dataDir: string, tz: TzOffset = systemTzOffset): FactSource | null {
  let db;
  try {
    db = openDatabase(join(dataDir, 'ledger.sqlite'), { readonly: true, busyTimeoutMs: 200 });
  } catch {
    return null;
  }
  const q = createQueries(db, tz);
  return {
    kind: 'ledger',
    async session(id) {
      const first = q.getSession(id, { limit: 1 });
      if (first === null) return null;
      const n = first.session.requests;
      const last = n > 1 ? q.getSession(id, { limit: 1, offset: n - 1 }) : first;
      return { summary: first.session, last: last?.requests[0] ?? first.requests[0] ?? null };
    },
    async costOfDays(since, until) {
      const t = q.totals({ since, until });
      return { costUsd: t.costUsd, unpricedRequests: t.unpricedRequests };
    },
    async budgets() {
      return budgetsOf(settingsFile(dataDir)?.control?.budgets);
    },
    async profile() {
      const p = settingsFile(dataDir)?.profiles;
      // Only a profile the file still lists (a deleted one is not active).
      const name = profileName(p?.active);
      return name !== null && p?.list && typeof p.list === 'object' && Object.hasOwn(p.list, name) ? name : null;
    },
    close() { db.close(); },
  };
}

// --- the command ------------------------------------------------------------------------------

export interface StatuslineIo {
  stdout: (s: string) => void;
  readStdin: () => Promise<string>;
  env: Record<string, string | undefined>;
  /** Claude Code runs the command with stdout to a pipe: colour unless NO_COLOR (FORCE_COLOR=0 turns it off too). */
  now?: () => number;
  tz?: TzOffset;
}

/** Always resolves 0: Claude Code's render must never see a failure. Writes exactly one line. */
export async function runStatusline(io: StatuslineIo, dataDir: string): Promise<number> {
  let line: string;
  try {
    const input = parseStatusInput(await io.readStdin());
    const now = (io.now ?? Date.now)();
    // Claude Code pipes stdout, so "is a TTY" says nothing here: colour unless NO_COLOR asks not to.
    const color = useColor({ isTTY: io.env.TERM !== 'dumb' && io.env.FORCE_COLOR !== '0', env: io.env });
    const rt = runningGateway(dataDir);
    let facts: StatusFacts | null = null;
    if (rt !== null) {
      // The session's project, for the window and reports before any transcript import (the
      // gateway keeps the first it hears). Beside the reads, never in the way of the line.
      const named = input.sessionId !== null && input.projectDir !== null
        ? getJson(rt, `/sessions/${encodeURIComponent(input.sessionId)}/project`, 500, { project: input.projectDir.slice(0, 1000) }).catch(() => null)
        : null;
      try {
        facts = await gatherFacts(gatewaySource(rt), input, now, io.tz);
        await named;
      } catch {
        facts = null; // not answering (stopping, or a reused pid): read the file instead
      }
    }
    if (facts === null) {
      const src = ledgerSource(dataDir, io.tz);
      if (src === null) {
        line = `${paint('Sluice', 'bold', color)} ${paint('off', 'red', color)} · no ledger yet`;
      } else {
        try {
          facts = await gatherFacts(src, input, now, io.tz);
        } finally {
          src.close();
        }
      }
    }
    line = facts === null ? line! : renderStatusLine(facts, color);
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 60);
    line = `Sluice: status unavailable (${msg})`;
  }
  io.stdout(`${line}\n`);
  return 0;
}
