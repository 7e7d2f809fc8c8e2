// `sluice statusline` as Claude Code runs it: the built binary, JSON on stdin, one line on
// stdout, exit 0 and an empty stderr whatever happens. Numbers are checked against the ledger's
// own queries and the shared formatter, with the gateway down (ledger read-only) and up
// (asked over loopback with the admin runtime file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openLedger } from '../proxy/ledger/ledger.js';
import { localDay, systemTzOffset } from '../proxy/ledger/dates.js';
import { makeRow } from '../proxy/ledger/fixtures/rows.js';
import { formatPercent, formatUsd } from '../proxy/format.js';
import { parseStatusInput } from '../proxy/statusline.js';
import { runSluice, startSluiceServe, type ServeProcess } from './cli-process.js';
import { tempDir } from './helpers.js';

const NOW = Date.now();
const SESSION = '5c0ffee0-0000-4000-8000-000000000001';
const ROUTED = '5c0ffee0-0000-4000-8000-000000000002';
let home: Awaited<ReturnType<typeof tempDir>>;
let dataDir: string;
let expect: { session: string; today: string; todayUsd: number; cache: string; routedSession: string };

const input = (session: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  session_id: session, transcript_path: '/nowhere.jsonl', cwd: '/work/app', hook_event_name: 'Status',
  model: { id: 'claude-opus-4-6', display_name: 'Opus' }, workspace: { current_dir: '/work/app', project_dir: '/work/app' },
  version: '2.1.332', output_style: { name: 'default' },
  cost: { total_cost_usd: 0.42, total_duration_ms: 1000, total_api_duration_ms: 900, total_lines_added: 1, total_lines_removed: 0 },
  context_window: { total_input_tokens: 1, total_output_tokens: 1, context_window_size: 200000 },
  rate_limits: { five_hour: { used_percentage: 12 } }, some_future_field: [1, 2, 3], ...extra,
});

const env = (extra: Record<string, string> = {}) => ({ HOME: home.path, SLUICE_DATA_DIR: dataDir, ...extra });

before(async () => {
  home = await tempDir('sluice-statusline-');
  dataDir = join(home.path, 'data');
  const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
  let i = 0;
  const row = (sessionId: string | null, ts: number, over: Parameters<typeof makeRow>[0] | object = {}) => makeRow({
    id: `req_${i++}`, sessionId, tsStart: ts, tsEnd: ts + 1000, requestedModel: 'claude-opus-4-6', servedModel: 'claude-opus-4-6',
    inputTokens: 1200, outputTokens: 300, cacheReadTokens: 9000, cacheWrite5mTokens: 400, costPico: 31_415_926_535, ...over,
  });
  for (let k = 0; k < 6; k++) ledger.record(row(SESSION, NOW - 60_000 * (k + 1)));
  // Another session whose latest request was routed to another model and target.
  ledger.record(row(ROUTED, NOW - 120_000));
  ledger.record(row(ROUTED, NOW - 60_000, { servedModel: 'claude-haiku-4-5-20251001', target: 'cheap', fallback: true, costPico: 1_000_000_000 }));
  // Yesterday's spend is not today's.
  ledger.record(row('old-session', NOW - 2 * 86_400_000));
  ledger.flush();
  const s = ledger.getSession(SESSION)!.session;
  const day = localDay(NOW, systemTzOffset);
  expect = {
    session: formatUsd(s.costUsd),
    today: formatUsd(ledger.totals({ since: day, until: day }).costUsd),
    todayUsd: ledger.totals({ since: day, until: day }).costUsd!,
    cache: formatPercent(s.cacheReadTokens / (s.inputTokens + s.cacheReadTokens + s.cacheWriteTokens), 0),
    routedSession: formatUsd(ledger.getSession(ROUTED)!.session.costUsd),
  };
  ledger.close();
});
after(async () => { await home.cleanup(); });

function oneLine(r: { code: number | null; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '', 'nothing on stderr');
  assert.match(r.stdout, /^[^\n]+\n$/, 'exactly one line');
  return r.stdout.trimEnd();
}

test('statusline input: unknown fields ignored, missing or mistyped ones read as null', () => {
  assert.deepEqual(parseStatusInput(input(SESSION)), { sessionId: SESSION, projectDir: '/work/app', modelId: 'claude-opus-4-6' });
  assert.deepEqual(parseStatusInput('{}'), { sessionId: null, projectDir: null, modelId: null });
  assert.deepEqual(parseStatusInput('not json'), { sessionId: null, projectDir: null, modelId: null });
  assert.deepEqual(parseStatusInput('[1]'), { sessionId: null, projectDir: null, modelId: null });
  assert.deepEqual(parseStatusInput('{"session_id": 7, "workspace": null, "model": "opus", "cwd": "/x"}'), { sessionId: null, projectDir: '/x', modelId: null });
  assert.equal(parseStatusInput('{"session_id": "../../etc"}').sessionId, null, 'a session id is never a path');
});

test('gateway down: the line comes from the ledger file, read-only, marked off', { timeout: 30_000 }, async () => {
  const line = oneLine(await runSluice(['statusline'], env({ NO_COLOR: '1' }), input(SESSION)));
  assert.doesNotMatch(line, /\x1b/, 'NO_COLOR: no escape codes');
  assert.match(line, /^Sluice · off · /);
  assert.ok(line.includes(`session ${expect.session}`), line);
  assert.ok(line.includes(`today ${expect.today}`), line);
  assert.ok(line.includes(`cache ${expect.cache}`), line);
  assert.doesNotMatch(line, /→/, 'served as requested: no route shown');

  const routed = oneLine(await runSluice(['statusline'], env({ NO_COLOR: '1' }), input(ROUTED)));
  assert.ok(routed.includes(`session ${expect.routedSession}`), routed);
  assert.ok(routed.includes('→ haiku-4-5 via cheap (fallback)'), routed);

  const coloured = oneLine(await runSluice(['statusline'], env(), input(SESSION)));
  assert.match(coloured, /\x1b\[/, 'colour by default (Claude Code renders ANSI)');
  assert.equal(coloured.replace(/\x1b\[\d+m/g, ''), line, 'the same text, coloured');
});

test('gateway down: the active profile comes from settings.json, read and never written; a deleted one is not shown', { timeout: 30_000 }, async () => {
  const file = join(dataDir, 'settings.json');
  const text = `${JSON.stringify({ profiles: { active: 'Background on Haiku', list: { 'Background on Haiku': {} } } }, null, 2)}\n`;
  await writeFile(file, text);
  try {
    const line = oneLine(await runSluice(['statusline'], env({ NO_COLOR: '1' }), input(SESSION)));
    assert.match(line, /^Sluice · off · /);
    assert.ok(line.includes(' · profile Background on Haiku'), line);
    assert.equal(await readFile(file, 'utf8'), text, 'settings.json untouched');

    await writeFile(file, `${JSON.stringify({ profiles: { active: 'Gone', list: {} } })}\n`);
    assert.doesNotMatch(oneLine(await runSluice(['statusline'], env({ NO_COLOR: '1' }), input(SESSION))), /profile/);
    await writeFile(file, `${JSON.stringify({ profiles: { active: '\u001b[31mEvil', list: { '\u001b[31mEvil': {} } } })}\n`);
    assert.doesNotMatch(oneLine(await runSluice(['statusline'], env({ NO_COLOR: '1' }), input(SESSION))), /profile|\x1b/, 'a name settings would refuse is never printed');
  } finally {
    await rm(file, { force: true });
  }
});

test('missing, unknown and garbage input still prints one plain line and exits 0', { timeout: 30_000 }, async () => {
  for (const stdin of ['', '{}', 'garbage', '{"session_id": {"x": 1}}', input('no-such-session')]) {
    const line = oneLine(await runSluice(['statusline', '--some-future-flag'], env({ NO_COLOR: '1' }), stdin));
    assert.match(line, /^Sluice · off · today /, `${JSON.stringify(stdin)} -> ${line}`);
    assert.doesNotMatch(line, /session \$/);
  }
});

test('errors never fail the render: exit 0, a short plain line, empty stderr', { timeout: 30_000 }, async () => {
  const bad = await tempDir('sluice-statusline-bad-');
  try {
    // No ledger at all.
    assert.match(oneLine(await runSluice(['statusline'], { HOME: bad.path, SLUICE_DATA_DIR: join(bad.path, 'none'), NO_COLOR: '1' }, '{}')), /^Sluice off · no ledger yet$/);
    // A ledger file that is not SQLite.
    await writeFile(join(bad.path, 'ledger.sqlite'), 'this is not a database'.repeat(100));
    const line = oneLine(await runSluice(['statusline'], { HOME: bad.path, SLUICE_DATA_DIR: bad.path, NO_COLOR: '1' }, input(SESSION)));
    assert.match(line, /^Sluice(: status unavailable \(.{1,60}\)| off · no ledger yet)$/, line);
    // A runtime file naming a live pid whose URL does not answer: falls back to the ledger.
    await writeFile(join(dataDir, 'admin.json'), JSON.stringify({ url: 'http://127.0.0.1:9', port: 9, token: 'x', pid: process.pid }));
    const fallback = oneLine(await runSluice(['statusline'], env({ NO_COLOR: '1' }), input(SESSION)));
    assert.ok(fallback.startsWith('Sluice · off · ') && fallback.includes(`session ${expect.session}`), fallback);
  } finally {
    await rm(join(dataDir, 'admin.json'), { force: true });
    await bad.cleanup();
  }
});

test('gateway up: asked over loopback with the admin runtime file; budget left; bypass marker', { timeout: 60_000 }, async () => {
  await writeFile(join(dataDir, 'settings.json'), `${JSON.stringify({ control: { budgets: { dailyUsd: 5 } }, profiles: { active: 'Anthropic direct', list: { 'Anthropic direct': {} } } }, null, 2)}\n`);
  let gw: ServeProcess | null = null;
  try {
    gw = await startSluiceServe(env({ SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKE', SLUICE_ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' }));
    const line = oneLine(await runSluice(['statusline'], env({ NO_COLOR: '1' }), input(SESSION)));
    assert.doesNotMatch(line, /off/);
    assert.ok(line.startsWith('Sluice · session '), line);
    assert.ok(line.includes(`session ${expect.session}`), line);
    assert.ok(line.includes(`today ${expect.today}`), line);
    assert.ok(line.includes(`${formatUsd(5 - expect.todayUsd)} left daily`), `budget left: ${line}`);
    assert.ok(line.includes(' · profile Anthropic direct'), `the gateway's active profile: ${line}`);

    const unknown = oneLine(await runSluice(['statusline'], env({ NO_COLOR: '1' }), input('never-through-sluice')));
    assert.match(unknown, /^Sluice · not via Sluice · today /, unknown);
  } finally {
    await gw?.stop();
  }
});
