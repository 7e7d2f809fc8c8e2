// Sessions named by project (issue 19, item 6): `sluice statusline` tells the running gateway the
// session's workspace.project_dir (admin API, local credential); the ledger keeps it as the
// session's project through its one writer, for a session already stored and for one whose first
// request comes later, and never replaces a known project. the admin sessions API (what the window
// and reports read) then names the session by its project, with no transcript import.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openLedger } from '../proxy/ledger/ledger.js';
import { makeRow } from '../proxy/ledger/fixtures/rows.js';
import { runSluice, startSluiceServe, type ServeProcess } from './cli-process.js';
import { tempDir, until } from './helpers.js';
import { readFile } from 'node:fs/promises';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';

const STORED = '5c0ffee0-0000-4000-8000-00000000a001';
const LATER = '5c0ffee0-0000-4000-8000-00000000a002';
let home: Awaited<ReturnType<typeof tempDir>>;
let dataDir: string;
let serve: ServeProcess | null = null;
let mock: MockUpstream;
const env = () => ({ HOME: home.path, SLUICE_DATA_DIR: dataDir, NO_COLOR: '1', SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: 'sk-ant-api03-FAKEPROJECTKEY' });
const input = (session: string, projectDir: string) => JSON.stringify({ session_id: session, cwd: `${projectDir}/src`, workspace: { current_dir: `${projectDir}/src`, project_dir: projectDir }, model: { id: 'claude-opus-4-6' } });

before(async () => {
  mock = await startMockUpstream();
  home = await tempDir('sluice-sl-project-');
  dataDir = join(home.path, 'data');
  const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
  const t = Date.now() - 60_000;
  ledger.record(makeRow({ id: 'req_stored_1', sessionId: STORED, tsStart: t, tsEnd: t + 1000, tool: 'claude-code', costPico: 1e12, project: null }));
  ledger.close();
});
after(async () => {
  await serve?.stop();
  await mock.close();
  await home.cleanup();
});

/** A session as the admin API has it (what the window shows), or null before it is stored. */
async function sessionProject(id: string): Promise<{ project: string | null } | null> {
  const admin = JSON.parse(await readFile(join(dataDir, 'admin.json'), 'utf8')) as { url: string; token: string };
  const r = await fetch(`${admin.url}/admin/api/sessions/${id}?limit=1`, { headers: { authorization: `Bearer ${admin.token}` } });
  if (r.status !== 200) { await r.arrayBuffer(); return null; }
  return ((await r.json()) as { session: { project: string | null } }).session;
}

test('the statusline names a live session\'s project at the gateway; a known project is kept', { timeout: 60_000 }, async () => {
  serve = await startSluiceServe(env());
  const before = await sessionProject(STORED);
  assert.ok(before, 'the seeded session is listed');
  assert.equal(before.project, null, 'no project before the statusline ran');
  assert.equal(await sessionProject(LATER), null);

  // A stored session, and one the gateway has not seen a request of yet.
  for (const [s, dir] of [[STORED, '/home/dev/work/payments-api'], [LATER, '/home/dev/work/web-app']] as const) {
    const r = await runSluice(['statusline'], env(), input(s, dir));
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
  }
  // Another directory later (a cd inside the session) does not rename it.
  assert.equal((await runSluice(['statusline'], env(), input(STORED, '/elsewhere'))).code, 0);
  assert.equal((await sessionProject(STORED))?.project, '/home/dev/work/payments-api');

  // The later session's first request arrives through the gateway: it is stored with its project.
  const tok = await runSluice(['token', 'create', 'cc-project'], env());
  assert.equal(tok.code, 0, tok.stderr);
  const token = /sk-sluice-[A-Za-z0-9_.-]+/.exec(tok.stdout)?.[0];
  assert.ok(token, tok.stdout);
  const res = await fetch(`${serve.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-claude-code-session-id': LATER },
    body: JSON.stringify({ model: 'claude-opus-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  const later = await until(async () => (await sessionProject(LATER)) ?? false, 'the later session in the ledger', 20_000);
  assert.equal(later.project, '/home/dev/work/web-app');
});
