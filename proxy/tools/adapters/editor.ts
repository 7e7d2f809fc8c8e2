// VS Code-family editors: the Claude Code extension's `claudeCode.environmentVariables` list and
// Cursor's integrated-terminal env, both in the editor's user settings.json. Imports tools modules only.
import { join } from 'node:path';
import { createToolAdapter, listDir, pathExists } from '../adapter.js';
import type { OwnedKey } from '../engine.js';
import { editorExtensionsDir, editorUserDir, type Editor } from '../paths.js';
import type { ToolAdapter, ToolContext } from '../types.js';

const ENV_LIST = ['claudeCode.environmentVariables'];

function extensionKeys(): OwnedKey[] {
  return [
    { id: 'ANTHROPIC_BASE_URL', loc: { kind: 'json-entry', list: ENV_LIST, name: 'ANTHROPIC_BASE_URL' }, value: (c) => c.baseUrl, baseUrl: true },
    { id: 'ANTHROPIC_AUTH_TOKEN', loc: { kind: 'json-entry', list: ENV_LIST, name: 'ANTHROPIC_AUTH_TOKEN' }, value: (c) => c.token, secret: true },
  ];
}

async function hasClaudeExtension(ctx: ToolContext, editor: Editor): Promise<boolean> {
  return (await listDir(editorExtensionsDir(ctx, editor))).some((n) => n.toLowerCase().startsWith('anthropic.claude-code'));
}

export function createClaudeCodeEditorAdapter(editor: Editor): ToolAdapter {
  const name = editor === 'Code' ? 'VS Code' : 'Cursor';
  return createToolAdapter({
    id: editor === 'Code' ? 'claude-code-vscode' : 'claude-code-cursor',
    label: `Claude Code extension in ${name}`,
    async plan(ctx) {
      const userDir = editorUserDir(ctx, editor);
      const settings = join(userDir, 'settings.json');
      const installed = await pathExists(join(userDir, '..'));
      const notes = installed
        ? [`Sets ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN in "claudeCode.environmentVariables" of ${settings}; other entries stay as they are, in order.`]
        : [`${name}'s config folder ${join(userDir, '..')} was not found.`];
      if (installed && !(await hasClaudeExtension(ctx, editor))) {
        notes.push(`The Claude Code extension was not found in ${editorExtensionsDir(ctx, editor)}; the setting takes effect once it is installed.`);
      }
      return {
        installed,
        files: [{ path: settings, role: `${name} user settings`, format: 'json', defaultIndent: '    ', keys: extensionKeys() }],
        envVars: [],
        notes,
        warnings: [],
      };
    },
  });
}

const TERMINAL_OS = { linux: 'linux', darwin: 'osx', win32: 'windows' } as const;

/** Cursor's own chat cannot use a loopback gateway; its integrated terminal (Claude Code, CLIs) can. */
export const CURSOR_BYOK_NOTE =
  "Cursor's own chat and agent send BYOK requests from Cursor's servers, which cannot reach a loopback address such as 127.0.0.1; only tools started in Cursor's integrated terminal (Claude Code, other CLIs) use Sluice.";

export function createCursorTerminalAdapter(): ToolAdapter {
  return createToolAdapter({
    id: 'cursor-terminal',
    label: "Cursor's integrated terminal",
    async plan(ctx) {
      const userDir = editorUserDir(ctx, 'Cursor');
      const settings = join(userDir, 'settings.json');
      const installed = await pathExists(join(userDir, '..'));
      const key = `terminal.integrated.env.${TERMINAL_OS[ctx.platform]}`;
      const keys: OwnedKey[] = [
        { id: `${key}.ANTHROPIC_BASE_URL`, loc: { kind: 'json', path: [key, 'ANTHROPIC_BASE_URL'] }, value: (c) => c.baseUrl, baseUrl: true },
        { id: `${key}.ANTHROPIC_AUTH_TOKEN`, loc: { kind: 'json', path: [key, 'ANTHROPIC_AUTH_TOKEN'] }, value: (c) => c.token, secret: true },
      ];
      const notes = [CURSOR_BYOK_NOTE];
      notes.push(installed ? `Sets ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN in "${key}" of ${settings}; new terminals pick them up.` : `Cursor's config folder ${join(userDir, '..')} was not found.`);
      return {
        installed,
        files: [{ path: settings, role: 'Cursor user settings', format: 'json', defaultIndent: '    ', keys }],
        envVars: [],
        notes,
        warnings: [],
      };
    },
  });
}
