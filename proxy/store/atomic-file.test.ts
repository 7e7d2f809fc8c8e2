// Tests for atomic writes on a real temp dir: modes, backups, no leftover temp files, and the
// old file surviving a failed write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from './atomic-file.js';

const posix = process.platform !== 'win32';
let root: string;
let n = 0;

before(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'sluice-atomic-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const d = join(root, `case-${n++}`);
  await fs.mkdir(d);
  return d;
}

const modeOf = async (p: string) => (await fs.stat(p)).mode & 0o777;

test('a new file is created with mode 0600 and the given contents', async () => {
  const dir = await freshDir();
  const file = join(dir, 'settings.json');
  await writeFileAtomic(file, '{"a":1}\n');
  assert.equal(await fs.readFile(file, 'utf8'), '{"a":1}\n');
  if (posix) assert.equal(await modeOf(file), 0o600);
  assert.deepEqual(await fs.readdir(dir), ['settings.json']);
});

test('missing parent directories are created', async () => {
  const dir = await freshDir();
  const file = join(dir, 'a', 'b', 'state.json');
  await writeFileAtomic(file, 'x');
  assert.equal(await fs.readFile(file, 'utf8'), 'x');
});

test('binary data is written byte for byte', async () => {
  const dir = await freshDir();
  const file = join(dir, 'bin');
  const bytes = new Uint8Array([0, 255, 10, 13, 0x80, 0xfe]);
  await writeFileAtomic(file, bytes);
  assert.deepEqual(new Uint8Array(await fs.readFile(file)), bytes);
});

test('an existing file keeps its mode', { skip: !posix && 'POSIX modes only' }, async () => {
  const dir = await freshDir();
  const file = join(dir, 'user.json');
  await fs.writeFile(file, 'old');
  await fs.chmod(file, 0o644);
  await writeFileAtomic(file, 'new', { mode: 0o600 });
  assert.equal(await fs.readFile(file, 'utf8'), 'new');
  assert.equal(await modeOf(file), 0o644);
  await fs.chmod(file, 0o640);
  await writeFileAtomic(file, 'newer');
  assert.equal(await modeOf(file), 0o640);
});

test('an existing file keeps its mode under a strict umask', {
  skip: !posix && 'POSIX modes only',
}, async () => {
  const dir = await freshDir();
  const file = join(dir, 'user.json');
  await fs.writeFile(file, 'old');
  await fs.chmod(file, 0o644);
  const prev = process.umask(0o077);
  try {
    await writeFileAtomic(file, 'new');
  } finally {
    process.umask(prev);
  }
  assert.equal(await modeOf(file), 0o644);
});

test('the previous contents go to <path>.bak by default', async () => {
  const dir = await freshDir();
  const file = join(dir, 'c.json');
  await writeFileAtomic(file, 'v1');
  assert.equal(await readFileIfExists(`${file}.bak`), null, 'no backup for a new file');
  await writeFileAtomic(file, 'v2');
  assert.equal(await fs.readFile(`${file}.bak`, 'utf8'), 'v1');
  await writeFileAtomic(file, 'v3');
  assert.equal(await fs.readFile(`${file}.bak`, 'utf8'), 'v2');
  assert.equal(await fs.readFile(file, 'utf8'), 'v3');
});

test('backup: false writes no backup; backupPath chooses where it goes', async () => {
  const dir = await freshDir();
  const file = join(dir, 'c.json');
  await writeFileAtomic(file, 'v1');
  await writeFileAtomic(file, 'v2', { backup: false });
  assert.deepEqual(await fs.readdir(dir), ['c.json']);
  const elsewhere = join(dir, 'c.json.sluice-backup');
  await writeFileAtomic(file, 'v3', { backupPath: elsewhere });
  assert.equal(await fs.readFile(elsewhere, 'utf8'), 'v2');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['c.json', 'c.json.sluice-backup']);
});

test('no temp files are left behind, including after concurrent writes', async () => {
  const dir = await freshDir();
  const file = join(dir, 'c.json');
  const values = Array.from({ length: 20 }, (_, i) => `value-${i}-${'x'.repeat(1000 * i)}`);
  await Promise.all(values.map((v) => writeFileAtomic(file, v, { backup: false })));
  assert.deepEqual(await fs.readdir(dir), ['c.json']);
  // Whichever rename came last, the file is one whole write, never a mix.
  assert.ok(values.includes(await fs.readFile(file, 'utf8')));
});

test('a data argument that fails to write leaves the old file intact and no temp file', async () => {
  const dir = await freshDir();
  const file = join(dir, 'c.json');
  await writeFileAtomic(file, 'precious');
  const bad = { not: 'writable data' } as unknown as string;
  await assert.rejects(writeFileAtomic(file, bad, { backup: false }), (err: NodeJS.ErrnoException) => err.code === 'ERR_INVALID_ARG_TYPE');
  assert.equal(await fs.readFile(file, 'utf8'), 'precious');
  assert.deepEqual(await fs.readdir(dir), ['c.json']);
});

test('a rename that fails (the target is a directory) leaves it intact and no temp file', async () => {
  const dir = await freshDir();
  const target = join(dir, 'taken');
  await fs.mkdir(target);
  await fs.writeFile(join(target, 'inside'), 'keep');
  await assert.rejects(writeFileAtomic(target, 'data', { backup: false }));
  assert.equal(await fs.readFile(join(target, 'inside'), 'utf8'), 'keep');
  assert.deepEqual(await fs.readdir(dir), ['taken']);
});

test('a backup that cannot be made aborts the write before anything changes', async () => {
  const dir = await freshDir();
  const file = join(dir, 'c.json');
  await writeFileAtomic(file, 'v1');
  // A directory where the backup should go: copyFile fails, so the write must not happen.
  await fs.mkdir(`${file}.bak`);
  await assert.rejects(writeFileAtomic(file, 'v2'));
  assert.equal(await fs.readFile(file, 'utf8'), 'v1');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['c.json', 'c.json.bak']);
});

test('readFileIfExists: contents, null when missing, throws on other errors', async () => {
  const dir = await freshDir();
  const file = join(dir, 'r.txt');
  assert.equal(await readFileIfExists(file), null);
  assert.equal(await readFileIfExists(join(dir, 'no', 'such', 'dir.txt')), null);
  await fs.writeFile(file, 'héllo');
  assert.equal(await readFileIfExists(file), 'héllo');
  await assert.rejects(readFileIfExists(dir), (err: NodeJS.ErrnoException) => err.code === 'EISDIR');
});
