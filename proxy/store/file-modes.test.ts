// Tests for owner-only data dir permissions: what is tightened, what is left alone, symlinks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secureDataDir } from './file-modes.js';

const posix = process.platform !== 'win32';
const root = await mkdtemp(join(tmpdir(), 'sluice-modes-'));
after(() => rm(root, { recursive: true, force: true }));

const mode = async (p: string) => (await fs.lstat(p)).mode & 0o777;
async function file(p: string, m: number): Promise<string> {
  await fs.writeFile(p, 'x');
  await fs.chmod(p, m);
  return p;
}

test('a missing data dir is created 0700, parents included', { skip: !posix }, async () => {
  const dir = join(root, 'fresh', 'sluice');
  const r = await secureDataDir(dir);
  assert.equal(await mode(dir), 0o700);
  assert.deepEqual(r.changed, []);
});

test('an existing too-open dir and Sluice\'s files in it become owner-only; others are left alone', { skip: !posix }, async () => {
  const dir = join(root, 'old');
  await fs.mkdir(join(dir, 'capture', '2026-01-01'), { recursive: true });
  await fs.chmod(dir, 0o755);
  await fs.chmod(join(dir, 'capture'), 0o755);
  await fs.chmod(join(dir, 'capture', '2026-01-01'), 0o775);
  const own = [
    await file(join(dir, 'settings.json'), 0o644),
    await file(join(dir, 'settings.json.bak'), 0o644),
    await file(join(dir, 'ledger.sqlite'), 0o644),
    await file(join(dir, 'ledger.sqlite-wal'), 0o664),
    await file(join(dir, 'ledger.sqlite-shm'), 0o644),
    await file(join(dir, 'control.sqlite'), 0o640),
    await file(join(dir, 'admin.json'), 0o604),
    await file(join(dir, '.settings.json.123.abcdef.tmp'), 0o644),
    await file(join(dir, 'capture', '2026-01-01', 'req.txt'), 0o644),
  ];
  const already = await file(join(dir, 'models-cache.json'), 0o600);
  const foreign = await file(join(dir, 'notes.txt'), 0o644);
  const outside = await file(join(root, 'outside.txt'), 0o644);
  await fs.symlink(outside, join(dir, 'ledger.sqlite-link'));

  const r = await secureDataDir(dir);
  assert.equal(await mode(dir), 0o700);
  assert.equal(await mode(join(dir, 'capture')), 0o700);
  assert.equal(await mode(join(dir, 'capture', '2026-01-01')), 0o700);
  for (const p of own) assert.equal(await mode(p), 0o600, p);
  assert.equal(await mode(already), 0o600);
  assert.equal(await mode(foreign), 0o644, 'a file that is not Sluice\'s keeps its mode');
  assert.equal(await mode(outside), 0o644, 'a symlink is not followed');
  assert.equal(r.changed.length, own.length + 3);
  assert.ok(!r.changed.includes(already));

  // Nothing left to do the second time.
  assert.deepEqual((await secureDataDir(dir)).changed, []);
});

test('an owner execute bit is kept, only group and other bits go', { skip: !posix }, async () => {
  const dir = join(root, 'exec');
  await fs.mkdir(dir);
  const p = await file(join(dir, 'webhooks.log'), 0o755);
  await secureDataDir(dir);
  assert.equal(await mode(p), 0o700);
});

test('on Windows nothing is changed', async () => {
  const dir = join(root, 'win');
  await fs.mkdir(dir);
  const p = await file(join(dir, 'settings.json'), 0o644);
  assert.deepEqual((await secureDataDir(dir, 'win32')).changed, []);
  if (posix) assert.equal(await mode(p), 0o644);
});

test('files added since the list was written are Sluice\'s too: team, usage limits, the Anthropic report cache', { skip: !posix }, async () => {
  const dir = join(root, 'newer');
  await fs.mkdir(dir, { recursive: true });
  const own = [
    await file(join(dir, 'team.sqlite'), 0o644),
    await file(join(dir, 'team.sqlite-wal'), 0o644),
    await file(join(dir, 'usage-limits.json'), 0o644),
    await file(join(dir, 'anthropic-report.json'), 0o644),
    await file(join(dir, 'anthropic-report.json.4242.tmp'), 0o644),
  ];
  await secureDataDir(dir);
  for (const p of own) assert.equal(await mode(p), 0o600, p);
});
