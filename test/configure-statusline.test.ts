// `sluice configure claude-code --statusline`: adds Sluice's statusLine through the same
// reversible edit machinery as the rest of configure; a statusLine of the user's is never
// overwritten without `--statusline=replace`; `--undo` puts the settings file back byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'jsonc-parser';
import { runCli, type CliIo } from '../proxy/cli-main.js';
import { createMemorySecretStore } from '../proxy/store/secrets.js';
import { tempDir } from './helpers.js';

// Comments, odd spacing and key order: only a byte-exact restore gets these back.
const ORIGINAL = `{
  // mine
  "model":   "opus",
  "env": { "DISABLE_TELEMETRY": "1" },
  "permissions": {"allow": ["Bash(ls:*)"]}
}
`;
const THEIRS = `{
  "statusLine": { "type": "command", "command": "~/.claude/my-line.sh" },
  "model": "opus"
}
`;

async function setup() {
  const home = await tempDir('sluice-cfg-sl-');
  const claudeDir = join(home.path, 'claude-config');
  await mkdir(claudeDir, { recursive: true });
  const settings = join(claudeDir, 'settings.json');
  const secrets = createMemorySecretStore();
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (s) => { out += s; }, stderr: (s) => { err += s; },
    readStdin: async () => '', env: { CLAUDE_CONFIG_DIR: claudeDir, SLUICE_DATA_DIR: join(home.path, 'data'), PATH: '' },
    platform: 'linux', home: home.path, cwd: home.path, secrets: () => secrets,
  };
  const run = async (...args: string[]) => {
    out = ''; err = '';
    const code = await runCli(['configure', 'claude-code', '--port', '7420', ...args], io);
    return { code, out, err };
  };
  return { home, settings, run };
}

const statusLineOf = async (path: string) => (parse(await readFile(path, 'utf8')) as { statusLine?: { type: string; command: string } }).statusLine;

test('--statusline adds it with the gateway settings; a re-apply keeps it; --undo restores the exact bytes', async () => {
  const { home, settings, run } = await setup();
  try {
    await writeFile(settings, ORIGINAL);
    const r = await run('--statusline');
    assert.equal(r.code, 0, r.err + r.out);
    const sl = await statusLineOf(settings);
    assert.equal(sl?.type, 'command');
    assert.match(sl!.command, / statusline --data-dir '.*\/data'$/);
    const text = await readFile(settings, 'utf8');
    assert.ok(text.includes('// mine'), 'comments kept');
    assert.match(text, /"ANTHROPIC_BASE_URL": "http:\/\/127\.0\.0\.1:7420"/);

    // A plain re-apply (e.g. the gateway moved port) keeps the statusLine Sluice wrote.
    assert.equal((await run('--port', '7421')).code, 0);
    assert.deepEqual(await statusLineOf(settings), sl);
    assert.match(await readFile(settings, 'utf8'), /127\.0\.0\.1:7421/);

    const u = await run('--undo');
    assert.equal(u.code, 0, u.err);
    assert.equal(await readFile(settings, 'utf8'), ORIGINAL, 'byte for byte');
  } finally {
    await home.cleanup();
  }
});

test('a statusLine of the user\'s is refused, left untouched, and replaced only with --statusline=replace; undo brings it back', async () => {
  const { home, settings, run } = await setup();
  try {
    await writeFile(settings, THEIRS);
    const refused = await run('--statusline');
    assert.equal(refused.code, 1);
    assert.match(refused.out, /already has a statusLine of yours: .*my-line\.sh/);
    assert.match(refused.out, /sluice configure claude-code --statusline=replace/);
    assert.equal(await readFile(settings, 'utf8'), THEIRS, 'nothing written, not even the gateway keys');

    const replaced = await run('--statusline=replace');
    assert.equal(replaced.code, 0, replaced.err + replaced.out);
    assert.match((await statusLineOf(settings))!.command, / statusline /);

    // Applying --statusline again is not a conflict: that statusLine is Sluice's own.
    const again = await run('--statusline');
    assert.equal(again.code, 0, again.out + again.err + await readFile(settings, 'utf8'));

    assert.equal((await run('--undo')).code, 0);
    assert.equal(await readFile(settings, 'utf8'), THEIRS, 'the user\'s statusLine is back, byte for byte');
  } finally {
    await home.cleanup();
  }
});

test('added to an already configured Claude Code, and to a file that did not exist', async () => {
  const { home, settings, run } = await setup();
  try {
    await writeFile(settings, ORIGINAL);
    assert.equal((await run()).code, 0);
    assert.equal(await statusLineOf(settings), undefined, 'plain configure leaves the statusLine alone');
    assert.equal((await run('--statusline')).code, 0);
    assert.ok(await statusLineOf(settings));
    assert.equal((await run('--undo')).code, 0);
    assert.equal(await readFile(settings, 'utf8'), ORIGINAL);

    const { rm } = await import('node:fs/promises');
    await rm(settings);
    assert.equal((await run('--statusline')).code, 0);
    assert.ok(await statusLineOf(settings));
    assert.equal((await run('--undo')).code, 0);
    assert.equal(existsSync(settings), false, 'a file Sluice created is removed again');

    const wrongTool = await runCli(['configure', 'cline', '--statusline'], { stdout: () => {}, stderr: () => {}, readStdin: async () => '', env: {}, platform: 'linux', home: home.path });
    assert.equal(wrongTool, 2);
  } finally {
    await home.cleanup();
  }
});
