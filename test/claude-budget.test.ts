// Sluice's budgets in the real Claude Code TUI (2.1.332, under tmux): a `sluice serve` in front of
// the mock upstream, Claude Code configured by `sluice configure claude-code` (its gateway-shaped
// token: Claude Code reads a gateway's anthropic-ratelimit-unified-* headers only for an
// ANTHROPIC_AUTH_TOKEN that is a JWT with aud "claude-gateway", its S7t()/ote()), a daily budget
// whose spend is pre-seeded in the ledger (written through proxy/ledger before the gateway
// starts). At 80 % the first prompt is answered and Claude Code shows its own spend warning from
// the headers Sluice announced; once the budget is exhausted the next prompt is refused before
// it leaves the machine, Claude Code prints Sluice's billing message (period, reset, how to raise
// it) and does not retry: a relay in front of the gateway counts what Claude Code sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSluice, startSluiceServe, type ServeProcess } from './cli-process.js';
import { CLAUDE_BIN } from './claude-cli.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { freePort, tempDir } from './helpers.js';
import { parseHttpRequests, startRelay, type Relay } from './relay.js';
import { seedClaudeHome, startClaudeTui, tmuxUnavailable, type ClaudeTui } from './tmux.js';
import { openLedger } from '../proxy/ledger/ledger.js';
import { makeRow } from '../proxy/ledger/fixtures/rows.js';

const why = tmuxUnavailable();
const skip = why && process.env.CI !== 'true' ? why : false;
const PROVIDER = 'sk-ant-api03-FAKEBUDGETKEY';

/** Messages requests (not count_tokens) Claude Code sent through the relay so far. */
function sentMessages(relay: Relay): number {
  return relay.connections().flatMap((c) => parseHttpRequests(c))
    .filter((r) => r.method === 'POST' && r.target.startsWith('/v1/messages') && !r.target.includes('count_tokens')).length;
}

let mock: MockUpstream;
let home: Awaited<ReturnType<typeof tempDir>>;
let serve: ServeProcess | null = null;
let tui: ClaudeTui | null = null;
let relay: Relay | null = null;
before(async () => {
  if (skip) return;
  mock = await startMockUpstream();
  home = await tempDir('sluice-cc-budget-');
});
after(async () => {
  if (skip) return;
  await tui?.close();
  await relay?.close();
  await serve?.stop();
  await mock.close();
  await home.cleanup();
});

test('the real Claude Code TUI shows its spend warning at 80 % of a Sluice budget and Sluice\'s billing message once it is exhausted, without retrying', { skip, timeout: 400_000 }, async () => {
  assert.ok(existsSync(CLAUDE_BIN), `Claude Code binary missing at ${CLAUDE_BIN} (npm ci installs it)`);
  const project = join(home.path, 'proj');
  await seedClaudeHome(home.path, project);
  const dataDir = join(home.path, 'sluice-data');
  const env = { HOME: home.path, SLUICE_DATA_DIR: dataDir, SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER };

  // $80 spent today already (one row a minute ago), through the ledger's own writer.
  await mkdir(dataDir, { recursive: true });
  const seeded = openLedger(join(dataDir, 'ledger.sqlite'));
  const t = Date.now() - 60_000;
  seeded.record(makeRow({ id: 'seed_budget_1', tsStart: t, tsEnd: t + 1000, tool: 'claude-code', costPico: 80e12, billed: true, status: 200 }));
  seeded.close();

  const port = await freePort();
  serve = await startSluiceServe(env, ['--port', String(port), '--log-level', 'debug']);
  // Claude Code talks to a relay in front of the gateway, which keeps what it sent.
  relay = await startRelay(port);
  const relayPort = Number(new URL(relay.url).port);
  const cfg = await runSluice(['configure', 'claude-code', '--port', String(relayPort)], env);
  assert.equal(cfg.code, 0, cfg.stderr + cfg.stdout);
  const token = (JSON.parse(await readFile(join(home.path, '.claude', 'settings.json'), 'utf8')) as { env: Record<string, string> }).env.ANTHROPIC_AUTH_TOKEN!;
  assert.match(token, /^eyJ[^.]+\.eyJ[^.]+\.[A-Za-z0-9_-]{43}$/, 'configure wrote a gateway-shaped token');
  // $100 a day with $80 spent: 80 %, past Claude Code's 75 % warning; the first request fits.
  const set = await runSluice(['budget', 'set', 'daily', '100'], env);
  assert.equal(set.code, 0, set.stderr + set.stdout);

  tui = await startClaudeTui({ HOME: home.path, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1' }, project);
  await tui.waitFor(/❯/, 'the prompt', 120_000);
  await tui.submit('Say hello');
  await tui.waitFor(/Hello from the mock\./, 'the answer within the budget', 120_000);
  // Claude Code's own words for a gateway's cap past a threshold (its Ai()): "You've used 80% of
  // your …", or "Over 75% of your … used".
  const warned = await tui.waitFor(/You've used 8\d% of your|Over 75% of your/, 'Claude Code\'s spend warning', 60_000);
  assert.doesNotMatch(warned, /spend limit reached/);

  // Exhausted: the budget drops under what is spent; the gateway applies it to the next request.
  const lower = await runSluice(['budget', 'set', 'daily', '80'], env);
  assert.equal(lower.code, 0, lower.stderr + lower.stdout);
  const upstream = () => mock.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/v1/messages') && !r.url.includes('count_tokens')).length;
  const forwarded = upstream();
  const sentBefore = sentMessages(relay);
  await tui.submit('Say hello again');
  const screen = await tui.waitFor(/spend limit reached/, 'the billing message', 120_000);
  const flat = screen.replace(/\s+/g, ' ');
  assert.match(flat, /Sluice refused this request: the daily budget \(all tools\) \(\$80\.00, period \d{4}-\d{2}-\d{2}\)/, flat);
  assert.match(flat, /sluice budget set daily <usd>/, flat);
  assert.match(flat, /resets/, 'the reset is on screen');

  // No retry storm: Claude Code prints the error once it has given up, so the count is final
  // here: the prompt's request (and at most a side call or two), none of it upstream.
  const refused = sentMessages(relay) - sentBefore;
  assert.ok(refused >= 1 && refused <= 3, `${refused} messages requests for one refused prompt`);
  assert.equal(upstream(), forwarded, 'nothing reached the upstream after the budget ran out');

  // The token went through the gateway on every request; its secret is in no log line.
  assert.ok(serve.output().length > 0);
  assert.ok(!serve.output().includes(token.split('.')[2]!), 'the token is in the gateway log');
});
