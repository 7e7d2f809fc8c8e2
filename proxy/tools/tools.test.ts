// End-to-end tests of every adapter against real files in a fake HOME per platform: exact
// undo, idempotent apply, user edits surviving undo, refusal of broken files, previews.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, copyFile, readFile, writeFile, readdir, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { getToolAdapter, listToolAdapters, reapplyAll, ToolConfigError } from './index.js';
import type { Connection, RunResult, ToolContext, ToolId } from './types.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const TOKEN = 'sk-sluice-FAKEtool1';
const CONN: Connection = { baseUrl: 'http://127.0.0.1:7420', token: TOKEN };

type Platform = ToolContext['platform'];

interface Env {
  root: string;
  ctx: ToolContext;
  secrets: Map<string, string>;
  calls: Array<[string, string[]]>;
  osEnv: Map<string, string>;
  cleanup(): Promise<void>;
}

async function makeEnv(platform: Platform, env: Record<string, string> = {}): Promise<Env> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-tools-'));
  const home = join(root, 'home');
  await mkdir(home);
  const secrets = new Map<string, string>();
  const calls: Array<[string, string[]]> = [];
  const osEnv = new Map<string, string>();
  // A double of setx / reg / launchctl over an in-memory user environment.
  const run = async (cmd: string, args: string[]): Promise<RunResult> => {
    calls.push([cmd, args]);
    const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '' });
    if (cmd === 'setx') { osEnv.set(args[0]!, args[1]!); return ok(); }
    if (cmd === 'reg' && args[0] === 'query') {
      const v = osEnv.get(args[3]!);
      return v === undefined ? { code: 1, stdout: '', stderr: 'ERROR: The system was unable to find the specified registry key or value.' }
        : ok(`\r\nHKEY_CURRENT_USER\\Environment\r\n    ${args[3]}    REG_SZ    ${v}\r\n\r\n`);
    }
    if (cmd === 'reg' && args[0] === 'delete') { osEnv.delete(args[3]!); return ok(); }
    if (cmd === 'launchctl' && args[0] === 'getenv') return ok(osEnv.has(args[1]!) ? `${osEnv.get(args[1]!)}\n` : '');
    if (cmd === 'launchctl' && args[0] === 'setenv') { osEnv.set(args[1]!, args[2]!); return ok(); }
    if (cmd === 'launchctl' && args[0] === 'unsetenv') { osEnv.delete(args[1]!); return ok(); }
    return { code: 127, stdout: '', stderr: 'unknown command' };
  };
  const ctx: ToolContext = {
    platform,
    home,
    env: { PATH: '', ...env },
    dataDir: join(root, 'data'),
    cwd: join(root, 'project'),
    systemRoot: join(root, 'system'),
    secrets: {
      get: async (a) => secrets.get(a) ?? null,
      set: async (a, v) => { secrets.set(a, v); },
      delete: async (a) => secrets.delete(a),
    },
    run,
    now: () => new Date('2026-11-21T12:00:00.000Z'),
  };
  return { root, ctx, secrets, calls, osEnv, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** path (relative) -> sha256 of every file, and "dir" for every directory, under `dir`. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    let names: string[];
    try { names = await readdir(d); } catch { return; }
    for (const n of names.sort()) {
      const p = join(d, n);
      const st = await stat(p);
      if (st.isDirectory()) { out[relative(dir, p)] = 'dir'; await walk(p); }
      else out[relative(dir, p)] = createHash('sha256').update(await readFile(p)).digest('hex') + ` ${(st.mode & 0o777).toString(8)}`;
    }
  }
  await walk(dir);
  return out;
}

async function install(fixture: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(join(FIXTURES, fixture), dest);
}

const cfg = (ctx: ToolContext, ...p: string[]): string => join(ctx.home, '.config', ...p);

interface Case {
  name: string;
  tool: ToolId;
  platform: Platform;
  env?: Record<string, string>;
  /** Installs fixtures; returns the files the tool edits (the first gets the user edit). */
  setup(ctx: ToolContext): Promise<string[]>;
  /** Strings apply must put into the first file. */
  expect: string[];
  /** The user's edit between apply and undo (default: a new first property / a first line). */
  edit?: (path: string, text: string) => string;
}

const CASES: Case[] = [
  ...['claude-settings-comments.json', 'claude-settings-env-elsewhere.json', 'claude-settings-crlf-tabs.json', 'claude-settings-4space-nonl.json'].map((f): Case => ({
    name: `claude-code / ${f}`, tool: 'claude-code', platform: 'linux',
    async setup(ctx) { const p = join(ctx.home, '.claude', 'settings.json'); await install(f, p); return [p]; },
    expect: ['"ANTHROPIC_BASE_URL": "http://127.0.0.1:7420"', `"ANTHROPIC_AUTH_TOKEN": "${TOKEN}"`],
  })),
  {
    name: 'claude-code / CLAUDE_CONFIG_DIR on win32', tool: 'claude-code', platform: 'win32',
    async setup(ctx) { const p = join(ctx.home, 'cc-config', 'settings.json'); ctx.env.CLAUDE_CONFIG_DIR = dirname(p); await install('claude-settings-comments.json', p); return [p]; },
    expect: ['"ANTHROPIC_BASE_URL"'],
  },
  ...['vscode-settings-envlist.jsonc', 'vscode-settings-crlf-tabs.json', 'vscode-settings-empty.json'].map((f): Case => ({
    name: `claude-code-vscode / ${f}`, tool: 'claude-code-vscode', platform: 'linux',
    // In an empty object a new first property would also be the last, and its comma a trailing one.
    ...(f.includes('empty') ? { edit: (_p: string, t: string) => t.replace('{', '{ // user edit') } : {}),
    async setup(ctx) { const p = cfg(ctx, 'Code', 'User', 'settings.json'); await install(f, p); return [p]; },
    expect: ['"name": "ANTHROPIC_BASE_URL"', '"value": "http://127.0.0.1:7420"'],
  })),
  {
    name: 'claude-code-cursor / envlist on darwin', tool: 'claude-code-cursor', platform: 'darwin',
    async setup(ctx) { const p = join(ctx.home, 'Library', 'Application Support', 'Cursor', 'User', 'settings.json'); await install('vscode-settings-envlist.jsonc', p); return [p]; },
    expect: ['{ "name": "ANTHROPIC_AUTH_TOKEN", "value": "sk-sluice-FAKEtool1" },'],
  },
  {
    name: 'cursor-terminal / crlf-tabs on linux (XDG_CONFIG_HOME)', tool: 'cursor-terminal', platform: 'linux', env: {},
    async setup(ctx) { ctx.env.XDG_CONFIG_HOME = join(ctx.home, 'xdg'); const p = join(ctx.home, 'xdg', 'Cursor', 'User', 'settings.json'); await install('vscode-settings-crlf-tabs.json', p); return [p]; },
    expect: ['\t\t"GOPATH": "/home/dev/go",\r\n\t\t"ANTHROPIC_BASE_URL": "http://127.0.0.1:7420",\r\n'],
  },
  {
    name: 'cursor-terminal / envlist on win32 (APPDATA)', tool: 'cursor-terminal', platform: 'win32',
    async setup(ctx) { ctx.env.APPDATA = join(ctx.home, 'AppData', 'Roaming'); const p = join(ctx.home, 'AppData', 'Roaming', 'Cursor', 'User', 'settings.json'); await install('vscode-settings-envlist.jsonc', p); return [p]; },
    expect: ['"terminal.integrated.env.windows": {'],
  },
  {
    name: 'cline / providers.json with another provider', tool: 'cline', platform: 'linux',
    async setup(ctx) { const p = join(ctx.home, '.cline', 'data', 'settings', 'providers.json'); await install('cline-providers-openrouter.json', p); return [p]; },
    expect: ['"lastUsedProvider": "anthropic"', '"baseUrl": "http://127.0.0.1:7420"', '"openrouter": {'],
  },
  {
    name: 'cline / providers.json with an anthropic key (CLINE_DIR)', tool: 'cline', platform: 'darwin',
    async setup(ctx) { ctx.env.CLINE_DIR = join(ctx.home, 'cline-home'); const p = join(ctx.home, 'cline-home', 'data', 'settings', 'providers.json'); await install('cline-providers-anthropic-key.json', p); return [p]; },
    expect: [`"apiKey": "${TOKEN}"`, '"model": "claude-sonnet-4-5"'],
  },
  {
    name: 'cline / 4.x globalState + secrets', tool: 'cline', platform: 'win32',
    async setup(ctx) {
      const d = join(ctx.home, '.cline', 'data');
      await install('cline-globalState.json', join(d, 'globalState.json'));
      await install('cline-secrets.json', join(d, 'secrets.json'));
      return [join(d, 'globalState.json'), join(d, 'secrets.json')];
    },
    expect: ['"anthropicBaseUrl": "http://127.0.0.1:7420"', '"actModeApiProvider": "anthropic"'],
  },
  {
    name: 'shell / ubuntu .bashrc and a new fish file', tool: 'shell', platform: 'linux',
    async setup(ctx) { await install('bashrc-ubuntu', join(ctx.home, '.bashrc')); await mkdir(cfg(ctx, 'fish'), { recursive: true }); return [join(ctx.home, '.bashrc'), cfg(ctx, 'fish', 'conf.d', 'sluice.fish')]; },
    expect: ['# <<< conda initialize <<<\n\n# >>> sluice >>>\n', "export ANTHROPIC_BASE_URL='http://127.0.0.1:7420'\n"],
  },
  {
    name: 'shell / .bashrc with an old block and content after it', tool: 'shell', platform: 'linux',
    async setup(ctx) { await install('bashrc-with-block', join(ctx.home, '.bashrc')); return [join(ctx.home, '.bashrc')]; },
    expect: ["export ANTHROPIC_BASE_URL='http://127.0.0.1:7420'\nexport ANTHROPIC_AUTH_TOKEN='sk-sluice-FAKEtool1'\n# <<< sluice <<<\n\n# content after the block"],
  },
  {
    name: 'shell / .zshrc without trailing newline on darwin (launchctl)', tool: 'shell', platform: 'darwin',
    async setup(ctx) { await install('zshrc-no-newline', join(ctx.home, '.zshrc')); return [join(ctx.home, '.zshrc')]; },
    expect: ['source $ZSH/oh-my-zsh.sh\n\n# >>> sluice >>>\n'],
  },
  {
    name: 'shell / PowerShell profile with BOM and CRLF on win32 (setx)', tool: 'shell', platform: 'win32',
    async setup(ctx) { const p = join(ctx.home, 'Documents', 'PowerShell', 'Microsoft.PowerShell_profile.ps1'); await install('powershell-profile.ps1', p); return [p]; },
    expect: ["\r\n$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:7420'\r\n", '\uFEFF# PowerShell profile'],
  },
];

function userEdit(path: string, text: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (/\.jsonc?$/.test(path)) return text.replace('{', `{${eol}  "userEdit": 1,`);
  return `# user edit${eol}${text}`;
}

async function read(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

for (const c of CASES) {
  describe(c.name, () => {
    test('apply then undo gives back every byte, and removes backups and created dirs', async () => {
      const e = await makeEnv(c.platform, c.env);
      try {
        const files = await c.setup(e.ctx);
        const before = await snapshot(e.ctx.home);
        const res = await getToolAdapter(c.tool).apply(e.ctx, CONN);
        assert.ok(res.changed.length > 0);
        const first = await read(files[0]!);
        for (const s of c.expect) assert.ok(first.includes(s), `expected ${JSON.stringify(s)} in\n${first}`);
        assert.notDeepEqual(await snapshot(e.ctx.home), before);
        const undo = await getToolAdapter(c.tool).undo(e.ctx);
        assert.equal(undo.undone, true);
        assert.deepEqual(undo.merged, []);
        assert.deepEqual(await snapshot(e.ctx.home), before);
        assert.equal(e.secrets.size, 0, 'secrets of the undo data are deleted');
        const again = await getToolAdapter(c.tool).undo(e.ctx);
        assert.equal(again.undone, false);
        assert.match(again.notes[0]!, /nothing to undo/);
      } finally { await e.cleanup(); }
    });

    test('apply twice is idempotent and the record holds no token', async () => {
      const e = await makeEnv(c.platform, c.env);
      try {
        await c.setup(e.ctx);
        await getToolAdapter(c.tool).apply(e.ctx, CONN);
        const once = await snapshot(e.ctx.home);
        const record1 = await read(join(e.ctx.dataDir, 'tool-config.json'));
        const osWrites = (): number => e.calls.filter(([cmd, a]) => cmd === 'setx' || (cmd === 'launchctl' && a[0] !== 'getenv') || a[0] === 'delete').length;
        const callsAfterFirst = osWrites();
        const res = await getToolAdapter(c.tool).apply(e.ctx, CONN);
        assert.deepEqual(res.changed, []);
        assert.deepEqual(await snapshot(e.ctx.home), once);
        const record2 = await read(join(e.ctx.dataDir, 'tool-config.json'));
        assert.deepEqual(JSON.parse(record2).tools[c.tool].files, JSON.parse(record1).tools[c.tool].files);
        assert.ok(!record2.includes(TOKEN));
        assert.ok(!record2.includes('FAKEprior1') && !record2.includes('FAKEcline1') && !record2.includes('FAKEold'));
        assert.equal(osWrites(), callsAfterFirst, 'no OS environment writes on the second apply');
        assert.equal((await getToolAdapter(c.tool).status(e.ctx)).state, 'configured-by-sluice');
      } finally { await e.cleanup(); }
    });

    test("a user's edit between apply and undo survives; Sluice's keys go back", async () => {
      const e = await makeEnv(c.platform, c.env);
      try {
        const files = await c.setup(e.ctx);
        const original = await read(files[0]!);
        await getToolAdapter(c.tool).apply(e.ctx, CONN);
        const edit = c.edit ?? userEdit;
        await writeFile(files[0]!, edit(files[0]!, await read(files[0]!)));
        const undo = await getToolAdapter(c.tool).undo(e.ctx);
        assert.deepEqual(undo.merged, [files[0]]);
        assert.equal(await read(files[0]!), edit(files[0]!, original));
        await assert.rejects(stat(`${files[0]}.sluice-backup`), { code: 'ENOENT' });
      } finally { await e.cleanup(); }
    });

    test('preview writes nothing and masks the token', async () => {
      const e = await makeEnv(c.platform, c.env);
      try {
        const files = await c.setup(e.ctx);
        const before = await snapshot(e.root);
        const callsBefore = e.calls.length;
        const p = await getToolAdapter(c.tool).preview(e.ctx, CONN);
        assert.deepEqual(await snapshot(e.root), before);
        assert.ok(e.calls.slice(callsBefore).every(([, a]) => a[0] === 'getenv' || a[0] === 'query'), 'preview only reads the OS environment');
        const fp = p.files.find((f) => f.path === files[0])!;
        assert.ok(fp, 'the edited file is previewed');
        assert.match(fp.diff, /^\+.*ANTHROPIC_BASE_URL|^\+.*baseUrl|^\+.*anthropicBaseUrl/m);
        assert.ok(!JSON.stringify(p).includes(TOKEN), 'token masked');
        assert.ok(p.files.some((f) => f.after.includes('sk-sluice-…(hidden, 19 chars)')));
      } finally { await e.cleanup(); }
    });
  });
}

describe('broken files are refused, nothing written', () => {
  const broken: Array<{ tool: ToolId; fixture: string; dest: (ctx: ToolContext) => string; extra?: (ctx: ToolContext) => Promise<void> }> = [
    { tool: 'claude-code', fixture: 'claude-settings-broken.json', dest: (ctx) => join(ctx.home, '.claude', 'settings.json') },
    { tool: 'claude-code-vscode', fixture: 'vscode-settings-broken.jsonc', dest: (ctx) => cfg(ctx, 'Code', 'User', 'settings.json') },
    { tool: 'shell', fixture: 'bashrc-broken', dest: (ctx) => join(ctx.home, '.bashrc') },
    // A good providers.json must not be written when secrets.json next to globalState.json is broken.
    {
      tool: 'cline', fixture: 'claude-settings-broken.json', dest: (ctx) => join(ctx.home, '.cline', 'data', 'secrets.json'),
      extra: async (ctx) => {
        await install('cline-providers-openrouter.json', join(ctx.home, '.cline', 'data', 'settings', 'providers.json'));
        await install('cline-globalState.json', join(ctx.home, '.cline', 'data', 'globalState.json'));
      },
    },
  ];
  for (const b of broken) {
    test(`${b.tool} / ${b.fixture}`, async () => {
      const e = await makeEnv('linux');
      try {
        await install(b.fixture, b.dest(e.ctx));
        await b.extra?.(e.ctx);
        const before = await snapshot(e.root);
        await assert.rejects(getToolAdapter(b.tool).apply(e.ctx, CONN), (err: unknown) => {
          assert.ok(err instanceof ToolConfigError);
          assert.equal(err.code, 'TOOL_CONFIG_UNPARSEABLE');
          assert.equal(err.path, b.dest(e.ctx));
          return true;
        });
        await assert.rejects(getToolAdapter(b.tool).preview(e.ctx, CONN), ToolConfigError);
        assert.deepEqual(await snapshot(e.root), before, 'no file, backup or record written');
        assert.equal(e.secrets.size, 0);
      } finally { await e.cleanup(); }
    });
  }
});

describe('paths per platform', () => {
  const cases: Array<{ tool: ToolId; platform: Platform; env: (root: string) => Record<string, string>; want: (home: string, root: string) => string }> = [
    { tool: 'claude-code', platform: 'linux', env: () => ({}), want: (h) => join(h, '.claude', 'settings.json') },
    { tool: 'claude-code', platform: 'darwin', env: (r) => ({ CLAUDE_CONFIG_DIR: join(r, 'ccd') }), want: (_h, r) => join(r, 'ccd', 'settings.json') },
    { tool: 'claude-code-vscode', platform: 'linux', env: () => ({}), want: (h) => join(h, '.config', 'Code', 'User', 'settings.json') },
    { tool: 'claude-code-vscode', platform: 'linux', env: (r) => ({ XDG_CONFIG_HOME: join(r, 'x') }), want: (_h, r) => join(r, 'x', 'Code', 'User', 'settings.json') },
    { tool: 'claude-code-vscode', platform: 'darwin', env: () => ({}), want: (h) => join(h, 'Library', 'Application Support', 'Code', 'User', 'settings.json') },
    { tool: 'claude-code-cursor', platform: 'win32', env: (r) => ({ APPDATA: join(r, 'Roaming') }), want: (_h, r) => join(r, 'Roaming', 'Cursor', 'User', 'settings.json') },
    { tool: 'claude-code-cursor', platform: 'win32', env: () => ({}), want: (h) => join(h, 'AppData', 'Roaming', 'Cursor', 'User', 'settings.json') },
    { tool: 'cursor-terminal', platform: 'darwin', env: () => ({}), want: (h) => join(h, 'Library', 'Application Support', 'Cursor', 'User', 'settings.json') },
  ];
  for (const c of cases) {
    test(`${c.tool} on ${c.platform} ${JSON.stringify(c.env('R'))}`, async () => {
      const e = await makeEnv(c.platform);
      try {
        Object.assign(e.ctx.env, c.env(e.root));
        const d = await getToolAdapter(c.tool).detect(e.ctx);
        assert.deepEqual(d.files.map((f) => f.path), [c.want(e.ctx.home, e.root)]);
      } finally { await e.cleanup(); }
    });
  }

  test('cline follows CLINE_DIR and names the files it found', async () => {
    const e = await makeEnv('linux', {});
    try {
      e.ctx.env.CLINE_DIR = join(e.root, 'cl');
      assert.equal((await getToolAdapter('cline').detect(e.ctx)).installed, false);
      await mkdir(join(e.root, 'cl', 'data', 'settings'), { recursive: true });
      const d = await getToolAdapter('cline').detect(e.ctx);
      assert.equal(d.installed, true);
      assert.deepEqual(d.files, [{ path: join(e.root, 'cl', 'data', 'settings', 'providers.json'), exists: false, role: 'Cline provider settings (CLI / SDK)' }]);
      assert.ok(d.notes.some((n) => n.includes('providers.json')));
      await assert.rejects(getToolAdapter('cline').apply({ ...e.ctx, env: {} }, CONN), { code: 'TOOL_CONFIG_NOT_INSTALLED' });
    } finally { await e.cleanup(); }
  });

  test('cursor-terminal writes the key of the platform', async () => {
    for (const [platform, key] of [['linux', 'linux'], ['darwin', 'osx'], ['win32', 'windows']] as const) {
      const e = await makeEnv(platform, {});
      try {
        const d = await getToolAdapter('cursor-terminal').detect(e.ctx);
        const p = d.files[0]!.path;
        await mkdir(dirname(p), { recursive: true });
        await getToolAdapter('cursor-terminal').apply(e.ctx, CONN);
        assert.deepEqual(JSON.parse(await read(p)), { [`terminal.integrated.env.${key}`]: { ANTHROPIC_BASE_URL: CONN.baseUrl, ANTHROPIC_AUTH_TOKEN: TOKEN } });
        assert.ok(d.notes[0]!.includes('cannot reach a loopback address'));
      } finally { await e.cleanup(); }
    }
  });

  test('shell profiles: PowerShell under Documents on win32, ~/.config/powershell elsewhere', async () => {
    const w = await makeEnv('win32');
    const l = await makeEnv('linux');
    try {
      const wp = join(w.ctx.home, 'Documents', 'PowerShell', 'Microsoft.PowerShell_profile.ps1');
      const lp = cfg(l.ctx, 'powershell', 'Microsoft.PowerShell_profile.ps1');
      await install('powershell-profile.ps1', wp);
      await install('powershell-profile.ps1', lp);
      assert.deepEqual((await getToolAdapter('shell').detect(w.ctx)).files.map((f) => f.path), [wp]);
      assert.deepEqual((await getToolAdapter('shell').detect(l.ctx)).files.map((f) => f.path), [lp]);
    } finally { await w.cleanup(); await l.cleanup(); }
  });
});

describe('claude-code specifics', () => {
  test('a new settings file and ~/.claude are created, and removed again by undo', async () => {
    const e = await makeEnv('linux');
    try {
      const bin = join(e.root, 'bin');
      await mkdir(bin);
      await writeFile(join(bin, 'claude'), '#!/bin/sh\n');
      e.ctx.env.PATH = bin;
      assert.equal((await getToolAdapter('claude-code').status(e.ctx)).state, 'not-configured');
      await getToolAdapter('claude-code').apply(e.ctx, CONN);
      const p = join(e.ctx.home, '.claude', 'settings.json');
      assert.equal(await read(p), `{\n  "env": {\n    "ANTHROPIC_BASE_URL": "http://127.0.0.1:7420",\n    "ANTHROPIC_AUTH_TOKEN": "${TOKEN}"\n  }\n}`);
      assert.equal((await stat(p)).mode & 0o777, 0o600);
      await getToolAdapter('claude-code').undo(e.ctx);
      assert.deepEqual(await readdir(e.ctx.home), []);
    } finally { await e.cleanup(); }
  });

  test('status: not-installed, configured-elsewhere, configured-by-sluice, drifted', async () => {
    const e = await makeEnv('linux');
    try {
      const cc = getToolAdapter('claude-code');
      assert.deepEqual(await cc.status(e.ctx), { tool: 'claude-code', state: 'not-installed', baseUrl: null, drifted: [] });
      const p = join(e.ctx.home, '.claude', 'settings.json');
      await install('claude-settings-env-elsewhere.json', p);
      assert.deepEqual(await cc.status(e.ctx), { tool: 'claude-code', state: 'configured-elsewhere', baseUrl: 'https://llm-proxy.corp.example/anthropic', drifted: [] });
      await cc.apply(e.ctx, CONN);
      assert.equal((await cc.status(e.ctx)).state, 'configured-by-sluice');
      await writeFile(p, (await read(p)).replace(TOKEN, 'sk-sluice-FAKEother'));
      assert.deepEqual((await cc.status(e.ctx)).drifted, [`${p}: env.ANTHROPIC_AUTH_TOKEN`]);
      await writeFile(p, (await read(p)).replace('127.0.0.1:7420', '10.0.0.9:8080'));
      const s = await cc.status(e.ctx);
      assert.equal(s.state, 'drifted');
      assert.equal(s.baseUrl, 'http://10.0.0.9:8080');
      // Undo leaves the keys the user changed since apply, and says so.
      const u = await cc.undo(e.ctx);
      assert.deepEqual(u.kept, [`${p}: env.ANTHROPIC_AUTH_TOKEN`, `${p}: env.ANTHROPIC_BASE_URL`]);
      assert.ok((await read(p)).includes('10.0.0.9:8080'));
    } finally { await e.cleanup(); }
  });

  test('warnings: project, local and managed settings, shell exports', async () => {
    const e = await makeEnv('linux', { ANTHROPIC_API_KEY: 'sk-ant-api03-FAKEshell', CLAUDE_CODE_USE_BEDROCK: '1' });
    try {
      await mkdir(join(e.ctx.home, '.claude'));
      await mkdir(join(e.ctx.cwd!, '.claude'), { recursive: true });
      await writeFile(join(e.ctx.cwd!, '.claude', 'settings.json'), '{ "env": { "ANTHROPIC_BASE_URL": "https://x.example" } }');
      await writeFile(join(e.ctx.cwd!, '.claude', 'settings.local.json'), '{ // local\n "env": { "ANTHROPIC_API_KEY": "sk-ant-api03-FAKEproj" }, }');
      const managed = join(e.ctx.systemRoot!, 'etc', 'claude-code', 'managed-settings.json');
      await mkdir(dirname(managed), { recursive: true });
      await writeFile(managed, '{ "env": { "ANTHROPIC_AUTH_TOKEN": "corp" } }');
      const d = await getToolAdapter('claude-code').detect(e.ctx);
      const w = d.warnings.join('\n');
      assert.match(w, new RegExp(`${managed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} sets env.ANTHROPIC_AUTH_TOKEN`));
      assert.match(w, /settings\.local\.json sets env\.ANTHROPIC_API_KEY/);
      assert.match(w, /\.claude\/settings\.json sets env\.ANTHROPIC_BASE_URL/);
      assert.match(w, /ANTHROPIC_API_KEY is exported/);
      assert.match(w, /CLAUDE_CODE_USE_BEDROCK/);
      assert.ok(!w.includes('FAKEshell') && !w.includes('FAKEproj') && !w.includes('corp"'), 'no secret values in warnings');
      const clean = await makeEnv('linux');
      try {
        await mkdir(join(clean.ctx.home, '.claude'));
        assert.deepEqual((await getToolAdapter('claude-code').detect(clean.ctx)).warnings, []);
      } finally { await clean.cleanup(); }
    } finally { await e.cleanup(); }
  });

  test('re-apply with a new port keeps the original priors; undo after reapplyAll restores the original', async () => {
    const e = await makeEnv('linux');
    try {
      const p = join(e.ctx.home, '.claude', 'settings.json');
      await install('claude-settings-env-elsewhere.json', p);
      const original = await read(p);
      await getToolAdapter('claude-code').apply(e.ctx, CONN);
      await writeFile(p, userEdit(p, await read(p)));
      const asked: string[] = [];
      const connFor = async (id: string) => { asked.push(id); return { baseUrl: 'http://127.0.0.1:7555/', token: 'sk-sluice-FAKEtool2' }; };
      const res = await reapplyAll(e.ctx, 'http://127.0.0.1:7555', connFor);
      assert.deepEqual(res.map((r) => r.tool), ['claude-code']);
      assert.deepEqual(asked, ['claude-code'], 'the connection is asked for per tool');
      assert.deepEqual(await reapplyAll(e.ctx, 'http://127.0.0.1:7555', connFor), [], 'a tool already on the new URL is left alone');
      const now = await read(p);
      assert.ok(now.includes('"ANTHROPIC_BASE_URL": "http://127.0.0.1:7555"') && now.includes('sk-sluice-FAKEtool2'));
      const u = await getToolAdapter('claude-code').undo(e.ctx);
      assert.deepEqual(u.merged, [p], 'the user edit made exact restore impossible');
      assert.equal(await read(p), userEdit(p, original));
    } finally { await e.cleanup(); }
  });

  test('a symlinked settings file is edited in place and the link survives', async () => {
    const e = await makeEnv('linux');
    try {
      const real = join(e.root, 'dotfiles', 'claude-settings.json');
      await install('claude-settings-comments.json', real);
      await mkdir(join(e.ctx.home, '.claude'));
      const { symlink, lstat } = await import('node:fs/promises');
      await symlink(real, join(e.ctx.home, '.claude', 'settings.json'));
      const original = await read(real);
      await getToolAdapter('claude-code').apply(e.ctx, CONN);
      assert.ok((await lstat(join(e.ctx.home, '.claude', 'settings.json'))).isSymbolicLink());
      assert.ok((await read(real)).includes(TOKEN));
      await getToolAdapter('claude-code').undo(e.ctx);
      assert.equal(await read(real), original);
    } finally { await e.cleanup(); }
  });

  test('the backup keeps the permissions of the original', async () => {
    const e = await makeEnv('linux');
    try {
      const p = join(e.ctx.home, '.claude', 'settings.json');
      await install('claude-settings-comments.json', p);
      await chmod(p, 0o640);
      await getToolAdapter('claude-code').apply(e.ctx, CONN);
      assert.equal((await stat(`${p}.sluice-backup`)).mode & 0o777, 0o640);
      assert.equal(await read(`${p}.sluice-backup`), await read(join(FIXTURES, 'claude-settings-comments.json')));
      assert.equal((await stat(p)).mode & 0o777, 0o640);
    } finally { await e.cleanup(); }
  });
});

describe('secrets and OS environment', () => {
  test("Cline's existing apiKey goes to the keychain, not the record, and comes back on undo", async () => {
    const e = await makeEnv('linux');
    try {
      const p = join(e.ctx.home, '.cline', 'data', 'settings', 'providers.json');
      await install('cline-providers-anthropic-key.json', p);
      await writeFile(p, userEdit(p, await read(p)));
      const original = await read(p);
      await getToolAdapter('cline').apply(e.ctx, CONN);
      const record = await read(join(e.ctx.dataDir, 'tool-config.json'));
      assert.ok(!record.includes('sk-ant-api03-FAKEcline1'));
      assert.ok(!record.includes(TOKEN));
      const key = JSON.parse(record).tools.cline.files[0].keys.find((k: { id: string }) => k.id === 'anthropic.settings.apiKey');
      assert.equal(key.prior.state, 'secret');
      assert.equal(e.secrets.get(key.prior.account), JSON.stringify('sk-ant-api03-FAKEcline1'));
      assert.match(key.prior.account, /^tool-undo:cline:[0-9a-f]{16}:anthropic\.settings\.apiKey$/);
      const updated = JSON.parse((await read(p)).replace('"userEdit": 1,', ''));
      assert.equal(updated.providers.anthropic.updatedAt, '2026-11-21T12:00:00.000Z');
      // Force the merge path: the user touched an unrelated key.
      await writeFile(p, (await read(p)).replace('"userEdit": 1', '"userEdit": 2'));
      await getToolAdapter('cline').undo(e.ctx);
      assert.equal(await read(p), original.replace('"userEdit": 1', '"userEdit": 2'));
      assert.equal(e.secrets.size, 0);
    } finally { await e.cleanup(); }
  });

  test('Windows: setx sets, undo restores a prior value and deletes an absent one', async () => {
    const e = await makeEnv('win32');
    try {
      e.osEnv.set('ANTHROPIC_BASE_URL', 'https://old.example');
      await getToolAdapter('shell').apply(e.ctx, CONN);
      assert.deepEqual(e.calls.filter(([c]) => c === 'setx'), [['setx', ['ANTHROPIC_BASE_URL', CONN.baseUrl]], ['setx', ['ANTHROPIC_AUTH_TOKEN', TOKEN]]]);
      assert.equal((await getToolAdapter('shell').status(e.ctx)).state, 'configured-by-sluice');
      assert.ok(!(await read(join(e.ctx.dataDir, 'tool-config.json'))).includes(TOKEN));
      e.calls.length = 0;
      await getToolAdapter('shell').undo(e.ctx);
      assert.deepEqual(e.calls.filter(([c, a]) => c === 'setx' || a[0] === 'delete'), [
        ['reg', ['delete', 'HKCU\\Environment', '/v', 'ANTHROPIC_AUTH_TOKEN', '/f']],
        ['setx', ['ANTHROPIC_BASE_URL', 'https://old.example']],
      ]);
      assert.deepEqual([...e.osEnv], [['ANTHROPIC_BASE_URL', 'https://old.example']]);
    } finally { await e.cleanup(); }
  });

  test('macOS: launchctl setenv, and a prior token value is kept in the keychain', async () => {
    const e = await makeEnv('darwin');
    try {
      e.osEnv.set('ANTHROPIC_AUTH_TOKEN', 'sk-ant-api03-FAKElctl');
      await getToolAdapter('shell').apply(e.ctx, CONN);
      assert.equal(e.osEnv.get('ANTHROPIC_AUTH_TOKEN'), TOKEN);
      assert.equal(e.osEnv.get('ANTHROPIC_BASE_URL'), CONN.baseUrl);
      assert.ok(!(await read(join(e.ctx.dataDir, 'tool-config.json'))).includes('FAKElctl'));
      await getToolAdapter('shell').undo(e.ctx);
      assert.deepEqual([...e.osEnv], [['ANTHROPIC_AUTH_TOKEN', 'sk-ant-api03-FAKElctl']]);
      assert.ok(e.calls.some(([c, a]) => c === 'launchctl' && a[0] === 'unsetenv' && a[1] === 'ANTHROPIC_BASE_URL'));
    } finally { await e.cleanup(); }
  });
});

describe('two tools on one file (Cursor settings.json)', () => {
  for (const order of [['claude-code-cursor', 'cursor-terminal'], ['cursor-terminal', 'claude-code-cursor']] as const) {
    test(`apply both, undo ${order.join(' then ')}: original bytes`, async () => {
      const e = await makeEnv('linux');
      try {
        const p = cfg(e.ctx, 'Cursor', 'User', 'settings.json');
        await install('vscode-settings-envlist.jsonc', p);
        const before = await snapshot(e.ctx.home);
        await getToolAdapter('claude-code-cursor').apply(e.ctx, CONN);
        await getToolAdapter('cursor-terminal').apply(e.ctx, CONN);
        const both = await read(p);
        assert.ok(both.includes('"terminal.integrated.env.linux"') && both.includes('{ "name": "ANTHROPIC_AUTH_TOKEN"'));
        for (const id of order) await getToolAdapter(id).undo(e.ctx);
        assert.deepEqual(await snapshot(e.ctx.home), before);
      } finally { await e.cleanup(); }
    });
  }
});

test('registry lists every adapter once and rejects unknown ids', () => {
  const ids = listToolAdapters().map((a) => a.id);
  assert.deepEqual(ids, ['claude-code', 'claude-code-vscode', 'claude-code-cursor', 'cursor-terminal', 'cline', 'shell']);
  assert.throws(() => getToolAdapter('nope'), { code: 'TOOL_CONFIG_UNKNOWN_TOOL' });
});

test('bad connections are refused before anything is read', async () => {
  const e = await makeEnv('linux');
  try {
    await mkdir(join(e.ctx.home, '.claude'));
    const cc = getToolAdapter('claude-code');
    await assert.rejects(cc.apply(e.ctx, { baseUrl: 'http://127.0.0.1:7420/v1', token: TOKEN }), { code: 'TOOL_CONFIG_BAD_CONNECTION' });
    await assert.rejects(cc.apply(e.ctx, { baseUrl: 'ftp://x', token: TOKEN }), { code: 'TOOL_CONFIG_BAD_CONNECTION' });
    await assert.rejects(cc.apply(e.ctx, { baseUrl: CONN.baseUrl, token: "a'b" }), { code: 'TOOL_CONFIG_BAD_CONNECTION' });
    assert.deepEqual(await readdir(join(e.ctx.home, '.claude')), []);
  } finally { await e.cleanup(); }
});
