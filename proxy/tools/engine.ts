// The one place that applies, previews, undoes and inspects a tool's configuration: reads the
// files an adapter names, edits only the owned keys, keeps backups and the apply record.
// Adapters only describe files and keys; they never write. Imports node:fs and sibling modules.
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { writeFileAtomic } from '../store/atomic-file.js';
import { codecFor, type Codec, type FileFormat, type KeyLoc } from './codec.js';
import { unifiedDiff } from './diff.js';
import type { JsonValue } from './json-edit.js';
import { loadRecord, saveRecord, type Applied, type EnvVarRecord, type FileRecord, type KeyRecord, type Prior, type ToolConfigRecord, type ToolRecord } from './record.js';
import { blockVariable } from './text-block.js';
import { ToolConfigError } from './tool-config-error.js';
import type {
  ApplyResult, Connection, EnvVarPreview, FilePreview, PreviewResult, StatusResult, ToolContext, ToolId, UndoResult,
} from './types.js';

export interface OwnedKey {
  /** Stable name within the file, e.g. "env.ANTHROPIC_BASE_URL". */
  id: string;
  loc: KeyLoc;
  value: (conn: Connection, now: Date) => JsonValue;
  /** The value (ours and the one before) is a credential: prior goes to the keychain, applied is hashed. */
  secret?: boolean;
  /** This key holds the base URL (or, for a block, a text from which `baseUrlOf` reads it). */
  baseUrl?: boolean;
  baseUrlOf?: (v: JsonValue) => string | undefined;
  /** Written only when the key is absent (e.g. a format version). */
  onlyIfAbsent?: boolean;
  /** Written only when another key of the same file changes (e.g. an updatedAt stamp). */
  touch?: boolean;
}

export interface FileTarget {
  path: string;
  role: string;
  format: FileFormat;
  /** Indent for a file that does not show one (new or one-line files). */
  defaultIndent?: string;
  keys: OwnedKey[];
}

export interface EnvVarTarget {
  mechanism: 'setx' | 'launchctl';
  name: string;
  value: (conn: Connection) => string;
  secret: boolean;
  baseUrl?: boolean;
}

export interface ToolPlan {
  installed: boolean;
  files: FileTarget[];
  envVars: EnvVarTarget[];
  notes: string[];
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hashValue = (v: JsonValue | undefined): string => sha256(JSON.stringify(v ?? null));
const nowOf = (ctx: ToolContext): Date => (ctx.now ?? (() => new Date()))();

/** Validates and normalizes the connection: an http(s) root URL without /v1, a one-line token. */
export function normalizeConnection(conn: Connection): Connection {
  let url: URL;
  try {
    url = new URL(conn.baseUrl);
  } catch {
    throw new ToolConfigError('TOOL_CONFIG_BAD_CONNECTION', `Base URL ${JSON.stringify(conn.baseUrl)} is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ToolConfigError('TOOL_CONFIG_BAD_CONNECTION', `Base URL must be http(s), got ${url.protocol}`);
  }
  const baseUrl = conn.baseUrl.replace(/\/+$/, '');
  // Claude Code appends /v1/messages itself: a root ending in /v1 would request /v1/v1/messages.
  if (/\/v1$/.test(baseUrl)) {
    throw new ToolConfigError('TOOL_CONFIG_BAD_CONNECTION', `Base URL ${baseUrl} ends in /v1; give the gateway root (e.g. http://127.0.0.1:7420).`);
  }
  if (conn.token === '' || /[\s'"\\`$]/.test(conn.token)) {
    throw new ToolConfigError('TOOL_CONFIG_BAD_CONNECTION', 'The tool token must be a non-empty string without whitespace, quotes, backslashes or $.');
  }
  return { baseUrl, token: conn.token };
}

interface CurrentFile { path: string; bytes: Buffer | null; text: string | null }

async function realPathOf(path: string): Promise<string> {
  // A symlinked dotfile (stow, chezmoi) is edited where it lives, so the link survives.
  try { return await fs.realpath(path); } catch { return path; }
}

async function readCurrent(path: string): Promise<CurrentFile> {
  const real = await realPathOf(path);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(real);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path: real, bytes: null, text: null };
    throw err;
  }
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new ToolConfigError('TOOL_CONFIG_ENCODING', `${real} is not UTF-8 text; Sluice changed nothing.`, { path: real });
  }
  return { path: real, bytes, text };
}

async function exists(path: string): Promise<boolean> {
  try { await fs.stat(path); return true; } catch { return false; }
}

/** Directories that writing `file` would create, deepest first. */
async function missingDirs(file: string): Promise<string[]> {
  const out: string[] = [];
  let dir = dirname(file);
  while (!(await exists(dir))) {
    out.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

function secretAccount(tool: ToolId, path: string, key: string): string {
  return `tool-undo:${tool}:${sha256(path).slice(0, 16)}:${key}`;
}

function backupPathFor(path: string, tool: ToolId, record: ToolConfigRecord): string {
  // Two tools may edit one file (Cursor's settings.json): each keeps its own backup.
  const taken = new Set(Object.values(record.tools).flatMap((t) => t.files.map((f) => f.backupPath)));
  const plain = `${path}.sluice-backup`;
  return taken.has(plain) ? `${path}.sluice-backup-${tool}` : plain;
}

// ---------------------------------------------------------------------------------------------

interface PlannedFile {
  target: FileTarget;
  codec: Codec;
  cur: CurrentFile;
  newText: string;
  record: FileRecord;
  /** Secrets to store before the record is written. */
  secrets: Array<{ account: string; value: string }>;
  /** Strings to hide in a preview. */
  mask: string[];
}

interface PlannedEnv { target: EnvVarTarget; record: EnvVarRecord; current: string | undefined; desired: string; secrets: Array<{ account: string; value: string }> }

function priorOf(existing: JsonValue | undefined, secret: boolean, account: string, secrets: PlannedFile['secrets']): Prior {
  if (existing === undefined) return { state: 'absent' };
  if (!secret) return { state: 'value', value: existing };
  secrets.push({ account, value: JSON.stringify(existing) });
  return { state: 'secret', account };
}

function secretStrings(v: JsonValue | undefined): string[] {
  if (typeof v !== 'string' || v === '') return [];
  const inBlock = ['ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_API_KEY'].map((n) => blockVariable(v, n)).filter((s): s is string => !!s);
  return inBlock.length > 0 ? inBlock : [v];
}

/** Reads and checks every file, then computes the new texts. Writes nothing. */
async function planApply(ctx: ToolContext, tool: ToolId, plan: ToolPlan, conn: Connection, store: ToolConfigRecord): Promise<{ files: PlannedFile[]; envs: PlannedEnv[] }> {
  const now = nowOf(ctx);
  const prev = store.tools[tool];
  const files: PlannedFile[] = [];
  for (const target of plan.files) {
    const cur = await readCurrent(target.path);
    const codec = codecFor(target.format, cur.path, target.defaultIndent);
    if (cur.text !== null) codec.check(cur.text);
    const prevFile = prev?.files.find((f) => f.path === cur.path);
    let text = cur.text ?? '';
    let changed = false;
    const keys: KeyRecord[] = [];
    const secrets: PlannedFile['secrets'] = [];
    const mask: string[] = [conn.token];
    const ordered = [...target.keys.filter((k) => !k.touch), ...target.keys.filter((k) => k.touch)];
    for (const k of ordered) {
      const existing = codec.get(text, k.loc);
      const prevKey = prevFile?.keys.find((x) => x.id === k.id);
      if (k.secret) mask.push(...secretStrings(existing));
      if (k.onlyIfAbsent && existing !== undefined && !prevKey) continue;
      if (k.touch && !changed) {
        if (prevKey) keys.push(prevKey);
        continue;
      }
      const desired = k.value(conn, now);
      let memo = prevKey?.memo;
      if (!isDeepStrictEqual(existing, desired)) {
        const r = codec.set(text, k.loc, desired);
        text = r.text;
        changed = true;
        if (!prevKey) memo = r.memo;
      }
      const applied: Applied = k.secret ? { sha256: hashValue(desired) } : { value: desired };
      const key: KeyRecord = {
        id: k.id, loc: k.loc, secret: !!k.secret,
        prior: prevKey?.prior ?? priorOf(existing, !!k.secret, secretAccount(tool, cur.path, k.id), secrets),
        applied,
      };
      if (k.touch) key.touch = true;
      if (memo !== undefined) key.memo = memo;
      keys.push(key);
    }
    const curHash = cur.bytes ? sha256(cur.bytes) : null;
    const newHash = sha256(text);
    const record: FileRecord = prevFile
      ? {
          ...prevFile,
          keys,
          // Exact restore stays possible only while nobody but Sluice has touched the file.
          sha256After: prevFile.sha256After !== null && curHash === prevFile.sha256After ? newHash : null,
        }
      : {
          path: cur.path,
          format: target.format,
          defaultIndent: target.defaultIndent ?? '  ',
          existed: cur.bytes !== null,
          sha256Before: curHash,
          sha256After: newHash,
          backupPath: cur.bytes !== null ? backupPathFor(cur.path, tool, store) : null,
          createdDirs: cur.bytes !== null ? [] : await missingDirs(cur.path),
          keys,
        };
    files.push({ target, codec, cur, newText: text, record, secrets, mask });
  }
  const envs: PlannedEnv[] = [];
  for (const target of plan.envVars) {
    if (!ctx.run) continue;
    const current = await readEnvVar(ctx, target);
    const desired = target.value(conn);
    const prevEnv = prev?.envVars.find((e) => e.mechanism === target.mechanism && e.name === target.name);
    const secrets: PlannedEnv['secrets'] = [];
    const record: EnvVarRecord = {
      mechanism: target.mechanism,
      name: target.name,
      secret: target.secret,
      prior: prevEnv?.prior ?? priorOf(current, target.secret, `tool-undo:${tool}:env-${target.mechanism}:${target.name}`, secrets),
      applied: target.secret ? { sha256: hashValue(desired) } : { value: desired },
    };
    envs.push({ target, record, current, desired, secrets });
  }
  return { files, envs };
}

async function readEnvVar(ctx: ToolContext, t: { mechanism: 'setx' | 'launchctl'; name: string }): Promise<string | undefined> {
  const run = ctx.run!;
  if (t.mechanism === 'launchctl') {
    const r = await run('launchctl', ['getenv', t.name]);
    const v = r.stdout.replace(/\r?\n$/, '');
    return r.code === 0 && v !== '' ? v : undefined;
  }
  // `reg query` prints "    NAME    REG_SZ    value"; exit code 1 when the value does not exist.
  const r = await run('reg', ['query', 'HKCU\\Environment', '/v', t.name]);
  if (r.code !== 0) return undefined;
  const m = new RegExp(`^\\s*${t.name}\\s+REG_(?:EXPAND_)?SZ\\s+(.*?)\\s*$`, 'mi').exec(r.stdout);
  return m ? m[1]! : undefined;
}

async function writeEnvVar(ctx: ToolContext, mechanism: 'setx' | 'launchctl', name: string, value: string | undefined): Promise<void> {
  const run = ctx.run!;
  const [cmd, args] = mechanism === 'launchctl'
    ? ['launchctl', value === undefined ? ['unsetenv', name] : ['setenv', name, value]]
    : value === undefined ? ['reg', ['delete', 'HKCU\\Environment', '/v', name, '/f']] : ['setx', [name, value]];
  const r = await run(cmd, args);
  if (r.code !== 0) {
    // Never echo args: they may hold the token.
    throw new ToolConfigError('TOOL_CONFIG_COMMAND_FAILED', `${cmd} ${args[0]} ${name} failed with exit code ${r.code}: ${r.stderr.trim().slice(0, 200)}`);
  }
}

function maskText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of [...new Set(secrets)].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) {
    const prefix = /^[A-Za-z]+(?:-[A-Za-z0-9]+)*-/.exec(s.slice(0, 14))?.[0] ?? '';
    out = out.split(s).join(`${prefix}…(hidden, ${s.length} chars)`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export async function previewTool(ctx: ToolContext, tool: ToolId, plan: ToolPlan, connIn: Connection): Promise<PreviewResult> {
  const conn = normalizeConnection(connIn);
  const store = await loadRecord(ctx.dataDir);
  const { files, envs } = await planApply(ctx, tool, plan, conn, store);
  const previews: FilePreview[] = files.map((f) => {
    const before = maskText(f.cur.text ?? '', f.mask);
    const after = maskText(f.newText, f.mask);
    return {
      path: f.cur.path,
      exists: f.cur.bytes !== null,
      before,
      after,
      diff: f.cur.text === f.newText ? '' : unifiedDiff(before, after, { from: f.cur.bytes ? `a${f.cur.path}` : '/dev/null', to: `b${f.cur.path}` }),
    };
  });
  return { tool, files: previews, envVars: envs.map(envPreview), warnings: plan.warnings, notes: plan.notes };
}

const envPreview = (e: PlannedEnv): EnvVarPreview => ({ mechanism: e.target.mechanism, name: e.target.name, action: e.current === e.desired ? 'unchanged' : 'set' });

export async function applyTool(ctx: ToolContext, tool: ToolId, label: string, plan: ToolPlan, connIn: Connection): Promise<ApplyResult> {
  const conn = normalizeConnection(connIn);
  if (!plan.installed) {
    throw new ToolConfigError('TOOL_CONFIG_NOT_INSTALLED', `${label} does not look installed here; nothing was changed. ${plan.notes.join(' ')}`.trim());
  }
  const store = await loadRecord(ctx.dataDir);
  const { files, envs } = await planApply(ctx, tool, plan, conn, store);
  const now = nowOf(ctx).toISOString();
  const prev = store.tools[tool];

  // Order matters for a crash: backup, then secrets, then the record, then the files. A crash
  // before the file writes leaves a record whose undo finds the keys already at their priors.
  for (const f of files) {
    if (f.cur.bytes !== null && f.record.backupPath !== null && !prev?.files.some((p) => p.path === f.cur.path)) {
      const st = await fs.stat(f.cur.path);
      await writeFileAtomic(f.record.backupPath, f.cur.bytes, { backup: false, mode: st.mode & 0o777 });
      await fs.chmod(f.record.backupPath, st.mode & 0o777);
    }
  }
  for (const s of [...files.flatMap((f) => f.secrets), ...envs.flatMap((e) => e.secrets)]) await ctx.secrets.set(s.account, s.value);
  const changedPaths = files.filter((f) => f.cur.text !== f.newText).map((f) => f.cur.path);
  invalidateOthers(store, tool, changedPaths);
  const record: ToolRecord = {
    appliedAt: prev?.appliedAt ?? now,
    updatedAt: now,
    baseUrl: conn.baseUrl,
    // Files of an earlier apply that this plan no longer names stay recorded, so undo still reaches them.
    files: [...(prev?.files.filter((p) => !files.some((f) => f.record.path === p.path)) ?? []), ...files.map((f) => f.record)],
    envVars: [...(prev?.envVars.filter((p) => !envs.some((e) => e.record.name === p.name && e.record.mechanism === p.mechanism)) ?? []), ...envs.map((e) => e.record)],
  };
  store.tools[tool] = record;
  await saveRecord(ctx.dataDir, store);
  for (const f of files) {
    if (f.cur.text !== f.newText) await writeFileAtomic(f.cur.path, f.newText, { backup: false, mode: 0o600 });
  }
  for (const e of envs) {
    if (e.current !== e.desired) await writeEnvVar(ctx, e.target.mechanism, e.target.name, e.desired);
  }
  const notes = [...plan.notes];
  if (plan.envVars.length > 0 && !ctx.run) notes.push('The OS-level environment was not changed (no command runner given).');
  return {
    tool,
    changed: changedPaths,
    unchanged: files.filter((f) => f.cur.text === f.newText).map((f) => f.cur.path),
    envVars: envs.map(envPreview),
    warnings: plan.warnings,
    notes,
  };
}

/** Another tool's exact-restore backup is stale once Sluice changes the same file for this tool. */
function invalidateOthers(store: ToolConfigRecord, tool: ToolId, paths: string[]): void {
  for (const [id, rec] of Object.entries(store.tools)) {
    if (id === tool) continue;
    for (const f of rec.files) if (paths.includes(f.path)) f.sha256After = null;
  }
}

async function resolvePrior(ctx: ToolContext, prior: Prior): Promise<{ absent: true } | { absent: false; value: JsonValue } | null> {
  if (prior.state === 'absent') return { absent: true };
  if (prior.state === 'value') return { absent: false, value: prior.value };
  const raw = await ctx.secrets.get(prior.account);
  return raw === null ? null : { absent: false, value: JSON.parse(raw) as JsonValue };
}

function matchesApplied(current: JsonValue | undefined, applied: Applied): boolean {
  return 'sha256' in applied ? current !== undefined && hashValue(current) === applied.sha256 : isDeepStrictEqual(current, applied.value);
}

export async function undoTool(ctx: ToolContext, tool: ToolId, label: string): Promise<UndoResult> {
  const store = await loadRecord(ctx.dataDir);
  const rec = store.tools[tool];
  const result: UndoResult = { tool, undone: false, restored: [], merged: [], kept: [], notes: [] };
  if (!rec) {
    result.notes.push(`${label} is not configured by Sluice; nothing to undo.`);
    return result;
  }
  // Phase 1: decide every file's outcome (and refuse on an unparseable one) before writing any.
  type Action = { kind: 'restore'; f: FileRecord; bytes: Buffer } | { kind: 'delete'; f: FileRecord } | { kind: 'write'; f: FileRecord; text: string } | { kind: 'none'; f: FileRecord };
  const actions: Action[] = [];
  for (const f of rec.files) {
    const cur = await readCurrent(f.path);
    if (cur.bytes === null) {
      result.notes.push(`${f.path} no longer exists; left as it is.`);
      actions.push({ kind: 'none', f });
      continue;
    }
    if (f.sha256After !== null && sha256(cur.bytes) === f.sha256After) {
      if (!f.existed) { actions.push({ kind: 'delete', f }); continue; }
      const backup = f.backupPath ? await fs.readFile(f.backupPath).catch(() => null) : null;
      if (backup && sha256(backup) === f.sha256Before) { actions.push({ kind: 'restore', f, bytes: backup }); continue; }
      result.notes.push(`The backup of ${f.path} is missing or changed; put back Sluice's keys only.`);
    }
    const codec = codecFor(f.format, f.path, f.defaultIndent);
    codec.check(cur.text!);
    let text = cur.text!;
    for (const k of [...f.keys].reverse()) {
      const current = codec.get(text, k.loc);
      if (!k.touch && !matchesApplied(current, k.applied)) {
        result.kept.push(`${f.path}: ${k.id}`);
        continue;
      }
      const prior = await resolvePrior(ctx, k.prior);
      if (prior === null) {
        result.notes.push(`The earlier value of ${k.id} in ${f.path} was not found in the keychain; Sluice's value was removed.`);
        text = codec.remove(text, k.loc, k.memo);
      } else if (prior.absent) {
        text = codec.remove(text, k.loc, k.memo);
      } else {
        text = codec.set(text, k.loc, prior.value).text;
      }
    }
    if (!f.existed && codec.isEmpty(text)) actions.push({ kind: 'delete', f });
    else actions.push(text === cur.text ? { kind: 'none', f } : { kind: 'write', f, text });
  }

  // Phase 2: write.
  const changed: string[] = [];
  for (const a of actions) {
    if (a.kind === 'restore') {
      await writeFileAtomic(a.f.path, a.bytes, { backup: false });
      result.restored.push(a.f.path);
    } else if (a.kind === 'delete') {
      await fs.rm(a.f.path, { force: true });
      for (const dir of a.f.createdDirs) {
        try { await fs.rmdir(dir); } catch { break; } // not empty (someone else's files): keep it and its parents
      }
      result.restored.push(a.f.path);
    } else if (a.kind === 'write') {
      await writeFileAtomic(a.f.path, a.text, { backup: false });
      result.merged.push(a.f.path);
    }
    if (a.kind !== 'none') changed.push(a.f.path);
  }
  for (const e of [...rec.envVars].reverse()) {
    if (!ctx.run) {
      result.notes.push(`${e.name} in the OS environment was not restored (no command runner given).`);
      continue;
    }
    const current = await readEnvVar(ctx, e);
    if (!matchesApplied(current, e.applied)) { result.kept.push(`${e.mechanism}: ${e.name}`); continue; }
    const prior = await resolvePrior(ctx, e.prior);
    await writeEnvVar(ctx, e.mechanism, e.name, prior === null || prior.absent ? undefined : String(prior.value));
  }
  for (const f of rec.files) if (f.backupPath) await fs.rm(f.backupPath, { force: true });
  for (const k of [...rec.files.flatMap((f) => f.keys), ...rec.envVars]) {
    if (k.prior.state === 'secret') await ctx.secrets.delete(k.prior.account);
  }
  invalidateOthers(store, tool, changed);
  delete store.tools[tool];
  await saveRecord(ctx.dataDir, store);
  result.undone = true;
  return result;
}

export async function statusTool(ctx: ToolContext, tool: ToolId, plan: ToolPlan): Promise<StatusResult> {
  const store = await loadRecord(ctx.dataDir);
  const rec = store.tools[tool];
  let baseUrl: string | null = null;
  for (const t of plan.files) {
    const cur = await readCurrent(t.path).catch(() => null);
    if (!cur?.text) continue;
    const codec = codecFor(t.format, cur.path, t.defaultIndent);
    for (const k of t.keys.filter((x) => x.baseUrl)) {
      let v: JsonValue | undefined;
      try { v = codec.get(cur.text, k.loc); } catch { continue; }
      const url = v === undefined ? undefined : k.baseUrlOf ? k.baseUrlOf(v) : typeof v === 'string' ? v : undefined;
      if (url && baseUrl === null) baseUrl = url;
    }
  }
  if (baseUrl === null && ctx.run) {
    for (const e of plan.envVars.filter((x) => x.baseUrl)) baseUrl ??= (await readEnvVar(ctx, e)) ?? null;
  }
  if (!rec) {
    if (!plan.installed) return { tool, state: 'not-installed', baseUrl, drifted: [] };
    return { tool, state: baseUrl === null ? 'not-configured' : 'configured-elsewhere', baseUrl, drifted: [] };
  }
  const drifted: string[] = [];
  for (const f of rec.files) {
    const cur = await readCurrent(f.path).catch(() => null);
    if (!cur?.text) { drifted.push(`${f.path}: missing`); continue; }
    const codec = codecFor(f.format, f.path, f.defaultIndent);
    for (const k of f.keys.filter((x) => !x.touch)) {
      let v: JsonValue | undefined;
      try { v = codec.get(cur.text, k.loc); } catch { drifted.push(`${f.path}: unreadable`); break; }
      if (!matchesApplied(v, k.applied)) drifted.push(`${f.path}: ${k.id}`);
    }
  }
  if (ctx.run) {
    for (const e of rec.envVars) if (!matchesApplied(await readEnvVar(ctx, e), e.applied)) drifted.push(`${e.mechanism}: ${e.name}`);
  }
  return { tool, state: drifted.length > 0 ? 'drifted' : 'configured-by-sluice', baseUrl: baseUrl ?? rec.baseUrl, drifted };
}
