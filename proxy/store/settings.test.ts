// Tests for the settings store on a real temp dir: defaults, migration, validation listing every
// problem, read-modify-write across instances, backups, serialised updates and reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_PORT, SETTINGS_VERSION, SettingsError, defaultSettings, openSettings, parseSettings,
  type TokenRecord,
} from './settings.js';

const posix = process.platform !== 'win32';
let root: string;
let n = 0;

before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'sluice-settings-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const freshDir = () => join(root, `case-${n++}`);
const readJson = async (p: string) => JSON.parse(await fs.readFile(p, 'utf8')) as Record<string, any>;

async function writeRaw(dir: string, value: unknown): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = join(dir, 'settings.json');
  await fs.writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function token(i: number): TokenRecord {
  return {
    id: `id-${i}`,
    name: `tool-${i}`,
    hash: i.toString(16).padStart(64, '0'),
    hint: 'abcd',
    createdAt: '2026-01-01T00:00:00.000Z',
    revokedAt: null,
  };
}

/** File mtimes come from a coarse kernel clock (one tick is up to 10 ms): wait one out. */
const nextTick = () => new Promise((r) => setTimeout(r, 25));

async function rejectsWith(p: Promise<unknown>, check: (e: SettingsError) => void): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof SettingsError, `got ${String(err)}`);
    check(err);
    return true;
  });
}

test('defaults: every field has its documented default', () => {
  const s = defaultSettings();
  assert.equal(s.version, SETTINGS_VERSION);
  assert.equal(s.port, DEFAULT_PORT);
  assert.equal(s.providers.anthropic.baseUrl, DEFAULT_ANTHROPIC_BASE_URL);
  assert.deepEqual(s.security, { allowPassthrough: true, allowedOrigins: [] });
  assert.deepEqual(s.timeouts, { connectMs: 10_000, firstByteMs: 600_000, streamFirstByteMs: 30_000, idleMs: 600_000 });
  assert.equal(s.resilience.retry.budgetRatio, 0.5);
  assert.deepEqual(s.resilience.ejection, { baseMs: 1_000, maxMs: 60_000 });
  assert.deepEqual(s.tokens, []);
});

test('openSettings creates settings.json with defaults, mode 0600, and reopening reads it', async () => {
  const dir = freshDir();
  const store = await openSettings(dir);
  assert.equal(store.path, join(dir, 'settings.json'));
  assert.deepEqual(await readJson(store.path), defaultSettings());
  if (posix) {
    assert.equal((await fs.stat(store.path)).mode & 0o777, 0o600);
    assert.equal((await fs.stat(dir)).mode & 0o777, 0o700);
  }
  await store.update((s) => { s.port = 7777; });
  const again = await openSettings(dir);
  assert.equal(again.get().port, 7777);
});

test('a v0 file (no version) is migrated, its values kept', async () => {
  const dir = freshDir();
  const file = await writeRaw(dir, { port: 8123, security: { allowedOrigins: ['http://localhost:5173'] } });
  const store = await openSettings(dir);
  assert.equal(store.get().version, 1);
  assert.equal(store.get().port, 8123);
  assert.deepEqual(store.get().security.allowedOrigins, ['http://localhost:5173']);
  // Opening does not rewrite a file that exists; the first update writes the migrated shape.
  assert.equal((await readJson(file)).version, undefined);
  await store.update(() => {});
  assert.equal((await readJson(file)).version, 1);
});

test('a file from a newer version is refused with SettingsError naming the version', async () => {
  const dir = freshDir();
  const file = await writeRaw(dir, { version: 7, port: 1 });
  await rejectsWith(openSettings(dir), (e) => {
    assert.equal(e.code, 'SETTINGS_INVALID');
    assert.equal(e.path, file);
    assert.equal(e.problems.length, 1);
    assert.match(e.problems[0]!, /version 7/);
    assert.match(e.message, /version 7/);
    assert.ok(e.message.includes(file));
  });
  // The newer file is not overwritten.
  assert.equal((await readJson(file)).version, 7);
});

test('invalid values produce one SettingsError listing every problem', async () => {
  const dir = freshDir();
  await writeRaw(dir, {
    version: 1,
    port: 'x',
    providers: { anthropic: { baseUrl: 'ftp://example.com' } },
    security: { allowedOrigins: ['http://localhost:5173/path'] },
  });
  await rejectsWith(openSettings(dir), (e) => {
    assert.equal(e.problems.length, 3, e.problems.join('\n'));
    assert.ok(e.problems.some((p) => p.startsWith('port:')));
    assert.ok(e.problems.some((p) => p.startsWith('providers.anthropic.baseUrl:') && /http\(s\) URL/.test(p)));
    assert.ok(e.problems.some((p) => p.startsWith('security.allowedOrigins.0:') && /scheme:\/\/host/.test(p)));
    for (const p of e.problems) assert.ok(e.message.includes(p));
  });
});

test('parseSettings: out-of-range numbers, wrong types and non-objects are refused', () => {
  assert.throws(() => parseSettings({ version: 1, port: 0 }), SettingsError);
  assert.throws(() => parseSettings({ version: 1, port: 65536 }), SettingsError);
  assert.throws(() => parseSettings({ version: 1, port: 80.5 }), SettingsError);
  assert.throws(() => parseSettings({ version: 1, timeouts: { connectMs: 5 } }), SettingsError);
  assert.throws(() => parseSettings({ version: 1, security: { allowPassthrough: 'yes' } }), SettingsError);
  assert.throws(() => parseSettings({ version: 1, providers: { anthropic: { baseUrl: 'not a url' } } }), SettingsError);
  assert.throws(() => parseSettings({ version: 1, tokens: [{ ...token(1), hash: 'short' }] }), SettingsError);
  assert.throws(() => parseSettings({ version: '1' }), (e: unknown) => e instanceof SettingsError && /integer/.test(e.problems[0]!));
  for (const raw of [null, [], 'x', 3]) {
    assert.throws(() => parseSettings(raw), (e: unknown) => e instanceof SettingsError && /JSON object/.test(e.problems[0]!));
  }
  assert.equal(parseSettings({ version: 1, port: 65535 }).port, 65535);
});

test('a file that is not JSON is refused with SettingsError', async () => {
  const dir = freshDir();
  await writeRaw(dir, '{"version": 1,');
  await rejectsWith(openSettings(dir), (e) => assert.match(e.problems[0]!, /not valid JSON/));
});

test('update is read-modify-write: another instance\'s edit survives an update through the first', async () => {
  const dir = freshDir();
  const a = await openSettings(dir);
  const b = await openSettings(dir);
  await b.update((s) => { s.port = 8001; });
  assert.equal(a.get().port, DEFAULT_PORT, 'a has not re-read yet');
  const result = await a.update((s) => { s.security.allowedOrigins.push('http://localhost:3000'); });
  assert.equal(result.port, 8001);
  assert.deepEqual(result.security.allowedOrigins, ['http://localhost:3000']);
  const onDisk = await readJson(a.path);
  assert.equal(onDisk.port, 8001);
  assert.deepEqual(onDisk.security.allowedOrigins, ['http://localhost:3000']);
  assert.equal(a.get(), result);
});

test('update writes a .bak holding the previous file', async () => {
  const dir = freshDir();
  const store = await openSettings(dir);
  const before = await fs.readFile(store.path, 'utf8');
  await store.update((s) => { s.port = 9001; });
  assert.equal(await fs.readFile(`${store.path}.bak`, 'utf8'), before);
  const second = await fs.readFile(store.path, 'utf8');
  await store.update((s) => { s.port = 9002; });
  assert.equal(await fs.readFile(`${store.path}.bak`, 'utf8'), second);
  assert.equal((await readJson(store.path)).port, 9002);
});

test('a throwing mutate leaves the file and the in-memory settings unchanged', async () => {
  const dir = freshDir();
  const store = await openSettings(dir);
  await store.update((s) => { s.port = 8500; });
  const text = await fs.readFile(store.path, 'utf8');
  const boom = new Error('mutate failed');
  await assert.rejects(store.update((s) => { s.port = 1; throw boom; }), (e) => e === boom);
  assert.equal(await fs.readFile(store.path, 'utf8'), text);
  assert.equal(store.get().port, 8500);
});

test('a mutate that makes the settings invalid is refused and nothing is written', async () => {
  const dir = freshDir();
  const store = await openSettings(dir);
  const text = await fs.readFile(store.path, 'utf8');
  await assert.rejects(store.update((s) => { s.port = -1; }), (e: unknown) => e instanceof SettingsError && e.problems[0]!.startsWith('port:'));
  assert.equal(await fs.readFile(store.path, 'utf8'), text);
  assert.equal(store.get().port, DEFAULT_PORT);
  // A failed update does not jam the queue.
  await store.update((s) => { s.port = 8600; });
  assert.equal((await readJson(store.path)).port, 8600);
});

test('concurrent updates in one process are serialised: 20 parallel pushes all land', async () => {
  const dir = freshDir();
  const store = await openSettings(dir);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.update((s) => { s.tokens.push(token(i)); })));
  const ids = (await readJson(store.path)).tokens.map((t: TokenRecord) => t.id);
  assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => `id-${i}`));
  // Each update saw every earlier one: the i-th result holds i + 1 tokens.
  assert.deepEqual(results.map((r) => r.tokens.length), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.deepEqual(store.get().tokens.map((t) => t.id), ids);
});

test('reloadIfChanged: false when untouched, true after another writer, then false again', async () => {
  const dir = freshDir();
  const a = await openSettings(dir);
  const b = await openSettings(dir);
  assert.equal(await a.reloadIfChanged(), false);
  await nextTick();
  await b.update((s) => { s.port = 8800; });
  assert.equal(await a.reloadIfChanged(), true);
  assert.equal(a.get().port, 8800);
  assert.equal(await a.reloadIfChanged(), false);
  // Its own updates do not count as outside changes.
  await a.update((s) => { s.port = 8801; });
  assert.equal(await a.reloadIfChanged(), false);
});

test('reloadIfChanged on a file made invalid keeps the last good settings and reports the error', async () => {
  const dir = freshDir();
  const store = await openSettings(dir);
  await store.update((s) => { s.port = 8900; });
  await nextTick();
  await fs.writeFile(`${store.path}.tmp-edit`, JSON.stringify({ version: 1, port: 'bad' }));
  await fs.rename(`${store.path}.tmp-edit`, store.path);
  await assert.rejects(store.reloadIfChanged(), SettingsError);
  assert.equal(store.get().port, 8900);
});

test('reloadIfChanged notices a file replaced within the same clock tick as our last write', async (t) => {
  const dir = freshDir();
  const store = await openSettings(dir);
  // Our write, then at once another process's rename over it; retried until both share an mtime.
  for (let attempt = 0; attempt < 50; attempt++) {
    await store.update((s) => { s.port = 8000 + attempt; });
    const ours = (await fs.stat(store.path)).mtimeMs;
    await fs.writeFile(`${store.path}.tmp-edit`, JSON.stringify({ version: 1, port: 9500 + attempt }));
    await fs.rename(`${store.path}.tmp-edit`, store.path);
    if ((await fs.stat(store.path)).mtimeMs !== ours) {
      await store.reloadIfChanged();
      continue;
    }
    assert.equal(await store.reloadIfChanged(), true);
    assert.equal(store.get().port, 9500 + attempt);
    return;
  }
  t.skip('this filesystem has fine-grained mtimes: no same-tick write could be produced');
});
