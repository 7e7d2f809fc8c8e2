// A session shows each served model once, with the ids it was asked for beside it (issue 24):
// `session_models` keeps every id named (a search finds either), the session's models come from
// its rows' requested -> served pairs; the label names the alias where routing changed the model,
// not where the API only added its date stamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger } from './ledger.js';
import { makeRow } from './fixtures/rows.js';
import { runCli, type CliIo } from '../cli-main.js';
import { modelsLabel } from '../format.js';

test('each served model once, the requested alias beside it; search still finds the alias', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-session-models-'));
  try {
    const l = openLedger(join(dir, 'ledger.sqlite'), { tzOffsetMinutes: () => 0 });
    const t = Date.UTC(2026, 2, 10, 12);
    const row = (id: string, i: number, requestedModel: string, servedModel: string | null, sessionId: string | null = 'sess-route') =>
      makeRow({ id, sessionId, tsStart: t + i * 1000, tsEnd: t + i * 1000 + 10, requestedModel, servedModel, ...(servedModel === null ? { status: 529, errorType: 'overloaded_error', billed: false, costPico: 0 } : {}) });
    l.write([
      row('a', 0, 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'),
      row('b', 1, 'claude-opus-4-6', 'claude-haiku-4-5'),
      row('c', 2, 'claude-haiku-4-5', 'claude-haiku-4-5'),
      row('d', 3, 'claude-opus-4-6', 'claude-haiku-4-5'),
      row('e', 4, 'claude-opus-4-6', null),
      row('f', 5, 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929', 'sess-plain'),
    ]);
    const s = l.listSessions({ limit: 10 }).sessions.find((x) => x.sessionId === 'sess-route')!;
    assert.deepEqual(s.models, ['claude-haiku-4-5', 'claude-opus-4-6', 'claude-sonnet-4-5-20250929'], 'served once each; the failed request under what it asked for');
    assert.deepEqual(s.modelAliases, { 'claude-haiku-4-5': ['claude-opus-4-6'], 'claude-sonnet-4-5-20250929': ['claude-sonnet-4-5'] });
    assert.deepEqual(l.getSession('sess-route')!.session.models, s.models);
    assert.deepEqual(l.getSession('sess-route')!.session.modelAliases, s.modelAliases);
    // Searching by the id asked for still finds the session.
    assert.deepEqual(l.listSessions({ search: 'opus-4-6' }).sessions.map((x) => x.sessionId), ['sess-route']);
    l.close();

    let out = '';
    const io: CliIo = { stdout: (x) => { out += x; }, stderr: (x) => { out += x; }, readStdin: async () => '', env: { SLUICE_DATA_DIR: dir, NO_COLOR: '1' }, platform: 'linux', home: dir };
    assert.equal(await runCli(['stats', '--by', 'session', '--json'], io), 0, out);
    const rows = (JSON.parse(out) as { rows: { sessionId: string; models: string[]; modelAliases?: Record<string, string[]> }[] }).rows;
    const r = rows.find((x) => x.sessionId === 'sess-route')!;
    assert.equal(modelsLabel(r.models, r.modelAliases), 'haiku-4-5 (asked opus-4-6), opus-4-6, sonnet-4-5', 'a dated id is the same model; a routed one is named');
    const plain = rows.find((x) => x.sessionId === 'sess-plain')!;
    assert.deepEqual(plain.models, ['claude-sonnet-4-5-20250929']);
    assert.equal(modelsLabel(plain.models, plain.modelAliases), 'sonnet-4-5');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
