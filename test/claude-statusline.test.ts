// Done-when of the terminal companion: the real Claude Code TUI (2.1.332, under tmux: `-p` never
// runs a statusLine) with the statusLine `sluice configure claude-code --statusline` wrote,
// talking to a running `sluice serve` in front of the mock upstream. After one prompt the
// statusline on screen carries the session's cost exactly as the ledger has it (proxy/format.ts);
// `--undo` then gives back the settings file byte for byte.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSluice, startSluiceServe, type ServeProcess } from './cli-process.js';
import { CLAUDE_BIN } from './claude-cli.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { freePort, headerMap, tempDir, until } from './helpers.js';
import { seedClaudeHome, startClaudeTui, tmuxUnavailable, type ClaudeTui } from './tmux.js';
import { formatUsd } from '../proxy/format.js';
import { openDatabase } from '../proxy/ledger/sqlite.js';
import { createQueries } from '../proxy/ledger/queries.js';
import { systemTzOffset } from '../proxy/ledger/dates.js';

const why = tmuxUnavailable();
const skip = why && process.env.CI !== 'true' ? why : false;
const PROVIDER = 'sk-ant-api03-FAKESTATUSLINEKEY';

// The user's settings, odd spacing and all: only a byte-exact undo gets these back. The theme is
// set, so Claude Code has nothing of its own to write here.
const ORIGINAL = `{
  "theme":    "dark",
  "env": { "DISABLE_TELEMETRY": "1" }
}
`;

let mock: MockUpstream;
let home: Awaited<ReturnType<typeof tempDir>>;
let serve: ServeProcess | null = null;
let tui: ClaudeTui | null = null;
before(async () => {
  if (skip) return;
  mock = await startMockUpstream();
  home = await tempDir('sluice-cc-tui-');
});
after(async () => {
  if (skip) return;
  await tui?.close();
  await serve?.stop();
  await mock.close();
  await home.cleanup();
});

/** The ledger's cost of one session, read read-only as the CLI does. */
function ledgerSessionCost(dataDir: string, id: string): { costUsd: number | null; requests: number } | null {
  const db = openDatabase(join(dataDir, 'ledger.sqlite'), { readonly: true, busyTimeoutMs: 500 });
  try {
    const s = createQueries(db, systemTzOffset).getSession(id, { limit: 1 });
    return s === null ? null : { costUsd: s.session.costUsd, requests: s.session.requests };
  } finally {
    db.close();
  }
}

test('the real Claude Code TUI runs Sluice\'s statusline and shows the ledger\'s session cost; undo restores the bytes', { skip, timeout: 240_000 }, async () => {
  assert.ok(existsSync(CLAUDE_BIN), `Claude Code binary missing at ${CLAUDE_BIN} (npm ci installs it)`);
  const project = join(home.path, 'proj');
  await seedClaudeHome(home.path, project);
  const settingsPath = join(home.path, '.claude', 'settings.json');
  await writeFile(settingsPath, ORIGINAL);
  const dataDir = join(home.path, 'sluice-data');
  const env = { HOME: home.path, SLUICE_DATA_DIR: dataDir, SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER };

  const port = await freePort();
  serve = await startSluiceServe(env, ['--port', String(port)]);
  const cfg = await runSluice(['configure', 'claude-code', '--statusline', '--port', String(port)], env);
  assert.equal(cfg.code, 0, cfg.stderr + cfg.stdout);
  const configured = await readFile(settingsPath, 'utf8');
  const settings = JSON.parse(configured) as { statusLine?: { type: string; command: string }; env: Record<string, string> };
  assert.equal(settings.statusLine?.type, 'command');
  assert.match(settings.statusLine!.command, / statusline --data-dir /);
  assert.equal(settings.env.ANTHROPIC_BASE_URL, `http://127.0.0.1:${port}`);

  tui = await startClaudeTui({ HOME: home.path, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1' }, project);
  // Before any request: the line is there, and says this session has not gone through Sluice yet.
  await tui.waitFor(/Sluice · not via Sluice · today \$/, 'the statusline before the first prompt', 120_000);

  await tui.submit('Say hello');
  await tui.waitFor(/Hello from the mock\./, 'the answer', 120_000);
  const sent = await until(() => mock.requests.find((r) => r.method === 'POST' && r.url.startsWith('/v1/messages')), 'a Messages request at the mock');
  const sessionId = headerMap(sent.rawHeaders).get('x-claude-code-session-id')?.[0];
  assert.match(sessionId ?? '', /^[0-9a-f-]{36}$/);
  const messages = () => mock.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/v1/messages')).length;
  const inLedger = await until(() => {
    const s = ledgerSessionCost(dataDir, sessionId!);
    return s !== null && s.requests === messages() && s.costUsd !== null ? s : false;
  }, 'the session in the ledger', 60_000);
  const want = `session ${formatUsd(inLedger.costUsd)}`;
  const screen = await tui.waitFor(new RegExp(`Sluice · ${want.replace(/[$.]/g, '\\$&')} · today `), `"${want}" on the statusline`, 60_000);
  assert.doesNotMatch(screen, /not via Sluice|status unavailable|Sluice off/);

  await tui.close();
  tui = null;
  assert.equal(await readFile(settingsPath, 'utf8'), configured, 'Claude Code left the settings file as configure wrote it');
  const undo = await runSluice(['configure', 'claude-code', '--undo'], env);
  assert.equal(undo.code, 0, undo.stderr + undo.stdout);
  assert.equal(await readFile(settingsPath, 'utf8'), ORIGINAL, 'undo restores the settings file byte for byte');
});
