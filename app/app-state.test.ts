// Tests for the app's own state file: defaults, validation with reasons, atomic round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appStatePath, defaultAppState, loadAppState, parseAppState, saveAppState } from './app-state.js';

test('no file: defaults (proxy on, nothing suspended), no problem', () => {
  assert.deepEqual(parseAppState(null), { state: { version: 1, proxyEnabled: true, suspendedTools: [] }, problem: null });
});

test('a valid file is read; missing fields take defaults', () => {
  assert.deepEqual(parseAppState('{"version":1,"proxyEnabled":false,"suspendedTools":["claude-code"]}').state,
    { version: 1, proxyEnabled: false, suspendedTools: ['claude-code'] });
  assert.deepEqual(parseAppState('{"version":1}').state, defaultAppState());
});

test('broken or invalid files fall back to defaults and say why', () => {
  const notJson = parseAppState('{oops');
  assert.deepEqual(notJson.state, defaultAppState());
  assert.match(notJson.problem!, /^app-state\.json is not JSON/);
  const wrong = parseAppState('{"version":2,"proxyEnabled":"yes","suspendedTools":[1]}');
  assert.deepEqual(wrong.state, defaultAppState());
  assert.match(wrong.problem!, /version: /);
  assert.match(wrong.problem!, /proxyEnabled: /);
  assert.match(wrong.problem!, /suspendedTools\.0: /);
});

test('save then load round-trips, the file is private (0600)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-appstate-'));
  try {
    assert.deepEqual(await loadAppState(dir), { state: defaultAppState(), problem: null });
    await saveAppState(dir, { version: 1, proxyEnabled: false, suspendedTools: ['cline', 'shell'] });
    assert.deepEqual(await loadAppState(dir), { state: { version: 1, proxyEnabled: false, suspendedTools: ['cline', 'shell'] }, problem: null });
    assert.equal((await stat(appStatePath(dir))).mode & 0o777, 0o600);
    assert.ok((await readFile(appStatePath(dir), 'utf8')).endsWith('}\n'));
    await writeFile(appStatePath(dir), 'garbage');
    assert.match((await loadAppState(dir)).problem!, /not JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
