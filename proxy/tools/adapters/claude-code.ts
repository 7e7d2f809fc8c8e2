// Claude Code CLI: `env.ANTHROPIC_BASE_URL` / `env.ANTHROPIC_AUTH_TOKEN` in its user settings,
// plus warnings where something with higher precedence would win. Imports tools modules only.
import { join } from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { readFileIfExists } from '../../store/atomic-file.js';
import { createToolAdapter, onPath, pathExists } from '../adapter.js';
import type { OwnedKey, ToolPlan } from '../engine.js';
import { claudeConfigDir, claudeManagedSettingsPath } from '../paths.js';
import type { ToolAdapter, ToolContext } from '../types.js';
import type { JsonValue } from '../json-edit.js';
import { codecFor } from '../codec.js';
import { loadRecord } from '../record.js';
import { isDeepStrictEqual } from 'node:util';

const CREDENTIAL_VARS = ['ANTHROPIC_BASE_URL', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_API_KEY'] as const;

export function claudeCodeKeys(statusLine?: JsonValue): OwnedKey[] {
  return [
    { id: 'env.ANTHROPIC_BASE_URL', loc: { kind: 'json', path: ['env', 'ANTHROPIC_BASE_URL'] }, value: (c) => c.baseUrl, baseUrl: true },
    { id: 'env.ANTHROPIC_AUTH_TOKEN', loc: { kind: 'json', path: ['env', 'ANTHROPIC_AUTH_TOKEN'] }, value: (c) => c.token, secret: true },
    ...(statusLine === undefined ? [] : [{ id: STATUS_LINE_KEY, loc: { kind: 'json' as const, path: ['statusLine'] }, value: () => statusLine }]),
  ];
}

const STATUS_LINE_KEY = 'statusLine';

/** The statusLine value `configure claude-code --statusline` writes. */
export function sluiceStatusLine(command: string): JsonValue {
  return { type: 'command', command, padding: 0 };
}

/** The statusLine Sluice wrote in an earlier apply (kept on re-apply, e.g. a port change), or undefined. */
async function appliedStatusLine(ctx: ToolContext): Promise<JsonValue | undefined> {
  const rec = await loadRecord(ctx.dataDir).catch(() => null);
  const key = rec?.tools['claude-code']?.files.flatMap((f) => f.keys).find((k) => k.id === STATUS_LINE_KEY);
  return key && 'value' in key.applied ? key.applied.value as JsonValue : undefined;
}

/**
 * The user's own statusLine in Claude Code's settings: one that is there and is neither the one
 * wanted now nor the one Sluice wrote before. `configure --statusline` never overwrites it
 * without `--statusline=replace`. Undefined when there is none.
 */
export async function userStatusLine(ctx: ToolContext, wanted: JsonValue): Promise<JsonValue | undefined> {
  const path = join(claudeConfigDir(ctx), 'settings.json');
  const text = await readFileIfExists(path).catch(() => null);
  if (text === null) return undefined;
  let current: JsonValue | undefined;
  try {
    current = codecFor('json', path).get(text, { kind: 'json', path: ['statusLine'] });
  } catch {
    return undefined; // unparseable: apply refuses it with its own message
  }
  // Compared as plain JSON: the parser's objects need not share Object.prototype.
  const same = (a: JsonValue, b: JsonValue) => isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
  if (current === undefined || same(current, wanted)) return undefined;
  const ours = await appliedStatusLine(ctx);
  return ours !== undefined && same(current, ours) ? undefined : current;
}

/** The `env` names among ANTHROPIC_BASE_URL / AUTH_TOKEN / API_KEY a settings file sets (null: unreadable). */
async function credentialVarsIn(path: string): Promise<string[] | null> {
  const text = await readFileIfExists(path).catch(() => null);
  if (text === null) return [];
  const errors: ParseError[] = [];
  const obj = parse(text.replace(/^\uFEFF/, ''), errors, { allowTrailingComma: true }) as { env?: Record<string, unknown> } | undefined;
  if (errors.length > 0) return null;
  const env = obj?.env;
  if (!env || typeof env !== 'object') return [];
  return CREDENTIAL_VARS.filter((n) => n in env);
}

async function claudeWarnings(ctx: ToolContext, settingsPath: string): Promise<string[]> {
  const warnings: string[] = [];
  const higher: Array<[string, string]> = [[claudeManagedSettingsPath(ctx), 'managed settings (set by an administrator) override every other settings file']];
  if (ctx.cwd) {
    higher.push(
      [join(ctx.cwd, '.claude', 'settings.local.json'), 'project-local settings override your user settings in this project'],
      [join(ctx.cwd, '.claude', 'settings.json'), 'project settings override your user settings in this project'],
    );
  }
  for (const [path, why] of higher) {
    const vars = await credentialVarsIn(path);
    if (vars === null) warnings.push(`${path} could not be parsed, so Sluice cannot tell whether it overrides the gateway settings.`);
    else if (vars.length > 0) warnings.push(`${path} sets env.${vars.join(', env.')}: ${why}, so Claude Code there will not use Sluice.`);
  }
  const own = await credentialVarsIn(settingsPath);
  if (own?.includes('ANTHROPIC_API_KEY')) {
    warnings.push(`${settingsPath} also sets env.ANTHROPIC_API_KEY; Claude Code prefers ANTHROPIC_AUTH_TOKEN but may report an auth conflict. Remove the API key there once Sluice holds it.`);
  }
  // The settings "env" object overrides exported variables, so only variables that change
  // which endpoint or credential Claude Code uses at all are worth a warning.
  if (ctx.env.ANTHROPIC_API_KEY) {
    warnings.push('ANTHROPIC_API_KEY is exported in your shell; with ANTHROPIC_AUTH_TOKEN also set Claude Code may report an auth conflict. Unset it (Sluice keeps provider keys itself).');
  }
  for (const v of ['CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX', 'CLAUDE_CODE_USE_FOUNDRY']) {
    const val = ctx.env[v];
    if (val && val !== '0' && val.toLowerCase() !== 'false') warnings.push(`${v} is set in your environment: Claude Code then talks to that cloud directly and ignores ANTHROPIC_BASE_URL.`);
  }
  return warnings;
}

export function createClaudeCodeAdapter(): ToolAdapter {
  return createToolAdapter({
    id: 'claude-code',
    label: 'Claude Code (CLI)',
    async plan(ctx): Promise<ToolPlan> {
      const dir = claudeConfigDir(ctx);
      const settings = join(dir, 'settings.json');
      const installed = (await pathExists(dir)) || (await onPath(ctx, 'claude'));
      const statusLine = ctx.statusLineCommand !== undefined ? sluiceStatusLine(ctx.statusLineCommand) : await appliedStatusLine(ctx);
      const notes = [`Writes env.ANTHROPIC_BASE_URL and env.ANTHROPIC_AUTH_TOKEN${statusLine !== undefined ? ' and statusLine' : ''} in ${settings}; every other setting is left as it is.`];
      if (ctx.env.ANTHROPIC_BASE_URL) notes.push(`ANTHROPIC_BASE_URL is also exported in your shell; the settings file wins for Claude Code.`);
      return {
        installed,
        files: [{ path: settings, role: 'Claude Code user settings', format: 'json', defaultIndent: '  ', keys: claudeCodeKeys(statusLine) }],
        envVars: [],
        notes: installed ? notes : [`Neither ${dir} nor a claude executable on PATH was found.`],
        warnings: await claudeWarnings(ctx, settings),
      };
    },
  });
}
