// `sluice profile list|use|save|delete|export|import`: through the running gateway when one is
// up (cli-settings.ts: its admin API with compare-and-set, so a switch applies to its next
// request), else settings.json under its lock. Export files hold no keys (settings never do).
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openCliSettings } from '../cli-settings.js';
import { renderTable, useColor } from '../cli-table.js';
import { GatewayError } from '../errors.js';
import { applyProfile, deleteProfile, exportProfiles, importProfiles, listProfiles, parseProfilesFile, saveProfile } from './index.js';

export interface ProfileCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  cwd?: string;
  isTTY?: boolean;
}

export const PROFILE_HELP = `Profiles (named provider + routing sets; the tray menu switches them too):
  sluice profile list [--json]
  sluice profile use NAME                  applies to the next request; remembered across restarts
  sluice profile save NAME [--description TEXT]   the live routing and the providers it uses
  sluice profile delete NAME
  sluice profile export [NAME ...] [--out FILE]   JSON, no keys
  sluice profile import FILE [--replace]
`;

export function isProfileCommand(argv: readonly string[]): boolean {
  return argv.find((a) => !a.startsWith('-')) === 'profile';
}

class UsageError extends Error {}

export async function runProfileCli(argv: string[], io: ProfileCliIo, dataDir: string): Promise<number> {
  const out = (s: string) => io.stdout(s.endsWith('\n') ? s : `${s}\n`);
  try {
    const { values: o, positionals } = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { json: { type: 'boolean' }, description: { type: 'string' }, out: { type: 'string' }, replace: { type: 'boolean' }, 'data-dir': { type: 'string' } },
    });
    const [, sub, ...rest] = positionals;
    const { settings, gateway } = await openCliSettings(dataDir);
    const where = gateway ? ' It applies to the next request.' : ' (No gateway is running: it applies when Sluice starts.)';
    switch (sub ?? 'list') {
      case 'list': {
        const rows = listProfiles(settings.get());
        if (o.json) { out(JSON.stringify({ active: settings.get().profiles.active, profiles: rows }, null, 2)); return 0; }
        if (rows.length === 0) { out('No profiles yet. Save the current routing as one: `sluice profile save NAME`.'); return 0; }
        out(renderTable(
          [{ head: '' }, { head: 'Profile' }, { head: 'Rules', align: 'right' }, { head: 'Providers', min: 12, drop: 2 }, { head: 'Description', min: 12, drop: 1 }],
          rows.map((r) => [r.active ? (r.modified ? '*~' : '*') : '', r.name, String(r.rules), r.providers.join(', ') || 'anthropic', r.description]),
          { color: useColor({ isTTY: io.isTTY, env: io.env }) },
        ));
        const act = rows.find((r) => r.active);
        if (act?.modified) out(`* active; ~ the live routing was edited since "${act.name}" was applied (\`sluice profile save ${JSON.stringify(act.name)}\` keeps the edits).`);
        return 0;
      }
      case 'use': {
        const name = rest.join(' ');
        if (!name) throw new UsageError('expected `sluice profile use NAME`');
        await settings.update((s) => applyProfile(s, name));
        out(`Profile "${name}" is active.${where}`);
        return 0;
      }
      case 'save': {
        const name = rest.join(' ');
        if (!name) throw new UsageError('expected `sluice profile save NAME`');
        await settings.update((s) => { saveProfile(s, name, o.description); });
        out(`Saved the current routing as profile "${name}" (active).`);
        return 0;
      }
      case 'delete': {
        const name = rest.join(' ');
        if (!name) throw new UsageError('expected `sluice profile delete NAME`');
        await settings.update((s) => deleteProfile(s, name));
        out(`Deleted profile "${name}". The live routing is unchanged.`);
        return 0;
      }
      case 'export': {
        const text = `${JSON.stringify(exportProfiles(settings.get(), rest), null, 2)}\n`;
        if (o.out) {
          await fs.writeFile(resolve(io.cwd ?? process.cwd(), o.out), text, { mode: 0o600 });
          out(`Wrote ${Object.keys(JSON.parse(text).profiles).length} profile(s) to ${o.out} (no keys).`);
        } else {
          io.stdout(text);
        }
        return 0;
      }
      case 'import': {
        const file = rest[0];
        if (!file) throw new UsageError('expected `sluice profile import FILE`');
        const text = await fs.readFile(resolve(io.cwd ?? process.cwd(), file), 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`);
        });
        let raw: unknown;
        try { raw = JSON.parse(text); } catch { throw new UsageError(`${file} is not JSON`); }
        const parsed = parseProfilesFile(raw);
        let names: string[] = [];
        await settings.update((s) => { names = importProfiles(s, parsed, { replace: o.replace === true }); });
        out(`Imported ${names.map((n) => `"${n}"`).join(', ')}. Apply one with \`sluice profile use NAME\`.`);
        return 0;
      }
      default:
        throw new UsageError(`unknown profile command "${sub}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') { io.stderr(`sluice: ${(err as Error).message}\n${PROFILE_HELP}`); return 2; }
    if (err instanceof GatewayError || err instanceof Error) { io.stderr(`sluice: ${err.message}\n`); return 1; }
    throw err;
  }
}
