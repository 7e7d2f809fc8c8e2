// Settings revisions (compare-and-set), the lock file, and the keychain message, in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../test/helpers.js';
import { openSettings, SettingsConflictError, withExpectedRevision } from './settings.js';
import { ifMatchRevision } from './settings-revision.js';
import { withFileLock } from './file-lock.js';
import { keychainHelp, keychainUnavailableMessage, SecretStoreError } from './secrets.js';

test('a write based on an old revision is refused and writes nothing; a current one goes through', async () => {
  const dir = await tempDir();
  try {
    const a = await openSettings(dir.path);
    const b = await openSettings(dir.path);
    const r0 = a.revision();
    assert.equal(b.revision(), r0, 'equal content, equal revision across stores');
    await b.update((s) => { s.security.allowPassthrough = false; });
    assert.notEqual(b.revision(), r0);
    const before = await readFile(join(dir.path, 'settings.json'), 'utf8');
    await assert.rejects(a.update((s) => { s.port = 9999; }, { expectRevision: r0 }), (err: unknown) => {
      assert.ok(err instanceof SettingsConflictError);
      assert.equal(err.status, 409);
      assert.equal(err.headers['x-sluice-revision'], b.revision());
      return true;
    });
    assert.equal(await readFile(join(dir.path, 'settings.json'), 'utf8'), before, 'nothing written');
    // One request may write twice: the expected revision follows its own writes.
    await withExpectedRevision(b.revision(), async () => {
      await a.update((s) => { s.port = 9998; });
      await a.update((s) => { s.port = 9997; });
    });
    assert.equal(a.get().port, 9997);
    assert.equal(a.get().security.allowPassthrough, false, 'the other store\'s change survived');
  } finally {
    await dir.cleanup();
  }
});

test('If-Match parsing: quoted, weak, bare, * and absent', () => {
  assert.equal(ifMatchRevision('"abc"'), 'abc');
  assert.equal(ifMatchRevision('W/"abc"'), 'abc');
  assert.equal(ifMatchRevision('abc'), 'abc');
  assert.equal(ifMatchRevision('*'), null);
  assert.equal(ifMatchRevision(undefined), null);
});

test('withFileLock: exclusive within and across callers; a dead owner\'s lock is taken over', async () => {
  const dir = await tempDir();
  try {
    const f = join(dir.path, 'x.json');
    const order: string[] = [];
    await Promise.all([1, 2, 3].map((i) => withFileLock(f, async () => {
      order.push(`in${i}`);
      await new Promise((r) => setImmediate(r));
      order.push(`out${i}`);
    })));
    for (let i = 0; i < order.length; i += 2) assert.equal(order[i]!.slice(2), order[i + 1]!.slice(3), `no overlap: ${order.join(',')}`);
    await writeFile(`${f}.lock`, `${2 ** 22 + 4321}\n`);
    assert.equal(await withFileLock(f, async () => 'ran'), 'ran');
    assert.equal(existsSync(`${f}.lock`), false);
  } finally {
    await dir.cleanup();
  }
});

test('no keychain: the message names what is missing and the env var, never the library\'s text', () => {
  for (const platform of ['linux', 'darwin', 'win32'] as const) {
    const m = keychainUnavailableMessage('read', platform);
    assert.match(m, /SLUICE_ANTHROPIC_API_KEY/);
    assert.match(m, platform === 'linux' ? /Secret Service/ : platform === 'darwin' ? /macOS Keychain/ : /Credential Manager/);
  }
  const raw = new Error('org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided');
  const e = keychainHelp(new SecretStoreError('x', { cause: raw }), 'openrouter', 'linux') as Error;
  assert.match(e.message, /SLUICE_OPENROUTER_API_KEY/);
  assert.doesNotMatch(e.message, /DBus|freedesktop/);
});
