// Profiles over settings drafts, and the CLI over a settings file: apply is one write (routing
// replaced, providers added, active set), a profile never changes a configured provider, save
// captures the live routing, export/import round-trip without keys, key-like fields are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSettings, openSettings, parseSettings } from '../store/settings.js';
import { applyProfile, exportProfiles, importProfiles, listProfiles, parseProfilesFile, ProfileConflictError, ProfileNotFoundError, ProfilesSettingsSchema, saveProfile } from './index.js';
import { runProfileCli } from './cli.js';

const haiku = {
  description: 'Background on Haiku',
  providers: { cheap: { type: 'anthropic-compatible', baseUrl: 'http://127.0.0.1:9/cheap', discoverModels: false } },
  routing: { rules: [{ name: 'bg', match: { scenario: 'background' }, target: { provider: 'cheap', model: 'claude-haiku-4-5' } }] },
};

function withProfiles() {
  return parseSettings({ version: 1, profiles: { list: { 'Background on Haiku': haiku, 'Anthropic direct': {} } } });
}

test('apply: routing replaced, providers added, active set; parsed as settings', () => {
  const s = withProfiles();
  applyProfile(s, 'Background on Haiku');
  const next = parseSettings(s);
  assert.equal(next.profiles.active, 'Background on Haiku');
  assert.equal(next.routing.rules[0]!.target!.provider, 'cheap');
  assert.equal(next.providers.cheap!.baseUrl, 'http://127.0.0.1:9/cheap');
  applyProfile(next, 'Anthropic direct');
  assert.deepEqual(next.routing.rules, []);
  assert.ok(next.providers.cheap, 'a switch never removes a provider (requests in flight may use it)');
  assert.deepEqual(listProfiles(next).map((r) => [r.name, r.active, r.modified]), [['Anthropic direct', true, false], ['Background on Haiku', false, false]]);
  next.routing.longContextTokens = 50_000;
  assert.equal(listProfiles(next)[0]!.modified, true, 'edited since applied');
  assert.throws(() => applyProfile(next, 'nope'), ProfileNotFoundError);
});

test('a profile that would change a configured provider is refused, nothing applied', () => {
  const s = withProfiles();
  (s.providers as Record<string, unknown>).cheap = { ...parseSettings({ version: 1, providers: { cheap: { type: 'anthropic-compatible', baseUrl: 'http://127.0.0.1:9/other' } } }).providers.cheap };
  const before = structuredClone(s);
  assert.throws(() => applyProfile(s, 'Background on Haiku'), (e: Error) => e instanceof ProfileConflictError && /defines provider "cheap" differently/.test(e.message));
  assert.deepEqual(s.routing, before.routing);
  assert.equal(s.profiles.active, null);
});

test('save captures the live routing and the providers it names; export/import round trip; keys refused', () => {
  const s = withProfiles();
  applyProfile(s, 'Background on Haiku');
  const saved = saveProfile(s, 'Copy', 'mine');
  assert.deepEqual(Object.keys(saved.providers), ['cheap']);
  assert.equal(s.profiles.active, 'Copy');
  const file = exportProfiles(s, ['Copy']);
  assert.deepEqual(Object.keys(file.profiles), ['Copy']);
  const fresh = defaultSettings();
  assert.deepEqual(importProfiles(fresh, parseProfilesFile(JSON.parse(JSON.stringify(file)))), ['Copy']);
  assert.throws(() => importProfiles(fresh, parseProfilesFile(file)), /already exists; nothing was imported/);
  assert.throws(() => parseProfilesFile({ sluiceProfiles: 1, profiles: { X: { providers: { p: { baseUrl: 'http://x', apiKey: 'sk-ant-1' } } } } }), /profiles carry no keys/);
  assert.throws(() => parseProfilesFile({ sluiceProfiles: 1, profiles: { X: { providers: { p: { headers: { Authorization: 'Bearer x' } } } } } }), /carry no credentials/);
});

test('a profile carries no credential in any header or in its base URL', () => {
  const file = (p: Record<string, unknown>) => ({ sluiceProfiles: 1, profiles: { X: { providers: { p } } } });
  for (const h of ['x-goog-api-key', 'X-Auth-Token', 'api_key', 'x-secret']) {
    assert.throws(() => parseProfilesFile(file({ headers: { [h]: 'AIzaSy-secret' } })), /carry no credentials/, h);
  }
  for (const u of ['https://user:pw@llm.example/v1', 'https://llm.example/v1?key=AIzaSy-secret', 'https://llm.example/v1?api_key=x']) {
    assert.throws(() => parseProfilesFile(file({ baseUrl: u })), /carry no credentials/, u);
  }
  assert.doesNotThrow(() => parseProfilesFile(file({ baseUrl: 'https://openrouter.ai/api/v1?region=eu', headers: { 'HTTP-Referer': 'https://me.example', 'X-Title': 'me' } })));
});

test('CLI: save, list, use, export and import through the settings file (no gateway running)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-profile-'));
  try {
    const st = await openSettings(dir);
    await st.update((s) => { s.profiles.list = ProfilesSettingsSchema.parse({ list: { 'Background on Haiku': haiku } }).list; });
    const out: string[] = [];
    const err: string[] = [];
    const run = (...a: string[]) => runProfileCli(['profile', ...a], { stdout: (x) => out.push(x), stderr: (x) => err.push(x), env: {}, cwd: dir }, dir);
    assert.equal(await run('use', 'Background', 'on', 'Haiku'), 0);
    assert.match(out.join(''), /Profile "Background on Haiku" is active/);
    out.length = 0;
    assert.equal(await run('list'), 0);
    assert.match(out.join(''), /\*\s+Background on Haiku\s+1\s+cheap\s+Background on Haiku/);
    assert.equal(await run('use', 'missing'), 1);
    assert.match(err.join(''), /No profile named "missing"/);
    assert.equal(await run('export', '--out', 'p.json'), 0);
    const text = await readFile(join(dir, 'p.json'), 'utf8');
    assert.equal(JSON.parse(text).sluiceProfiles, 1);
    await writeFile(join(dir, 'q.json'), text.replace('Background on Haiku', 'Imported'));
    assert.equal(await run('import', 'q.json'), 0);
    const onDisk = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8'));
    assert.deepEqual(Object.keys(onDisk.profiles.list).sort(), ['Background on Haiku', 'Imported']);
    assert.equal(onDisk.profiles.active, 'Background on Haiku', 'the choice is in settings.json, so it survives a restart');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
