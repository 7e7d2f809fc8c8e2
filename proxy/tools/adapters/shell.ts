// Shell profiles: a marked block exporting ANTHROPIC_BASE_URL / ANTHROPIC_AUTH_TOKEN in the
// profiles that exist, plus the OS-level user environment (setx on Windows, launchctl on
// macOS). Imports tools modules only.
import { dirname, join } from 'node:path';
import { createToolAdapter, pathExists } from '../adapter.js';
import type { EnvVarTarget, FileTarget } from '../engine.js';
import type { JsonValue } from '../json-edit.js';
import { shellProfiles, type ShellProfile } from '../paths.js';
import { blockVariable, quoteFish, quotePowerShell, quoteSh } from '../text-block.js';
import type { Connection, ToolAdapter } from '../types.js';

const HEADER = '# Added by Sluice (local LLM gateway); `sluice tools undo shell` removes this block.';

export function renderBlock(shell: ShellProfile['shell'], conn: Connection): string {
  const vars: Array<[string, string]> = [['ANTHROPIC_BASE_URL', conn.baseUrl], ['ANTHROPIC_AUTH_TOKEN', conn.token]];
  const line = ([n, v]: [string, string]): string => {
    switch (shell) {
      case 'bash':
      case 'zsh': return `export ${n}=${quoteSh(v)}`;
      case 'fish': return `set -gx ${n} ${quoteFish(v)}`;
      case 'powershell': return `$env:${n} = ${quotePowerShell(v)}`;
    }
  };
  return [HEADER, ...vars.map(line)].join('\n');
}

export function createShellAdapter(): ToolAdapter {
  return createToolAdapter({
    id: 'shell',
    label: 'Shell profiles',
    async plan(ctx) {
      const files: FileTarget[] = [];
      const notes: string[] = [];
      for (const p of shellProfiles(ctx)) {
        // fish reads every file in conf.d, so Sluice keeps a file of its own there.
        const present = p.own ? await pathExists(dirname(dirname(p.path))) : await pathExists(p.path);
        if (!present) continue;
        files.push({
          path: p.path,
          role: `${p.shell} profile`,
          format: 'block',
          keys: [{
            id: 'block',
            loc: { kind: 'block' },
            value: (c) => renderBlock(p.shell, c),
            // The block holds the token; an older block it replaces may hold another.
            secret: true,
            baseUrl: true,
            baseUrlOf: (v: JsonValue) => (typeof v === 'string' ? blockVariable(v, 'ANTHROPIC_BASE_URL') : undefined),
          }],
        });
      }
      const envVars: EnvVarTarget[] = [];
      const mechanism = ctx.platform === 'win32' ? 'setx' : ctx.platform === 'darwin' ? 'launchctl' : null;
      if (mechanism) {
        envVars.push(
          { mechanism, name: 'ANTHROPIC_BASE_URL', value: (c) => c.baseUrl, secret: false, baseUrl: true },
          { mechanism, name: 'ANTHROPIC_AUTH_TOKEN', value: (c) => c.token, secret: true },
        );
        notes.push(mechanism === 'setx'
          ? 'Also sets both variables in your Windows user environment (setx); programs started afterwards see them.'
          : 'Also sets both variables for apps started from the Dock or Finder (launchctl setenv); this lasts until logout.');
      }
      if (files.length > 0) notes.push(`Adds a "# >>> sluice >>>" block to: ${files.map((f) => f.path).join(', ')}. Open a new terminal afterwards.`);
      const shellName = ctx.env.SHELL ? ctx.env.SHELL.split('/').pop() : undefined;
      if (shellName && ['bash', 'zsh'].includes(shellName) && !files.some((f) => f.role.startsWith(shellName))) {
        notes.push(`Your login shell is ${shellName} but its profile (${join(ctx.home, `.${shellName}rc`)}) does not exist; create it to have Sluice add the block there.`);
      }
      if (ctx.platform === 'darwin' && files.some((f) => f.role.startsWith('bash'))) {
        notes.push('On macOS, Terminal starts bash as a login shell that reads ~/.bash_profile; make sure it sources ~/.bashrc.');
      }
      return { installed: files.length > 0 || envVars.length > 0, files, envVars, notes, warnings: [] };
    },
  });
}
