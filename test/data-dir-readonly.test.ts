// A start on an unwritable data dir says so at once: a data dir that cannot be created or
// secured stops the start with one line naming the dir, the reason and the fix (not a bare
// "EROFS: chmod"), and so does one that exists with the right modes on a read-only mount
// (where nothing needs a chmod, so a write is tried). Needs mount(2) (root
// in a container or VM) for a real read-only filesystem; elsewhere the tests skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import { DataDirError } from '../proxy/store/file-modes.js';
import { runCli, type CliIo } from '../proxy/cli-main.js';
import { startMockUpstream } from './mock-upstream.js';
import { authHeaders, PROVIDER_KEY, rawRequest } from './helpers.js';

let root: string;
let mnt: string;
let mounted = false;
const mount = (...o: string[]) => execFileSync('mount', ['-t', 'tmpfs', '-o', ['size=4m', ...o].join(','), 'tmpfs', mnt], { stdio: 'ignore' });
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-rodir-'));
  mnt = join(root, 'mnt');
  mkdirSync(mnt);
  try {
    mount();
    mounted = true;
  } catch {
    mounted = false;
  }
});
after(() => {
  if (mounted) execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
});

test('an unwritable data dir (new, or already private on a read-only mount): the start stops at once with the dir, the reason and the fix', { timeout: 60_000 }, async (t) => {
  if (!mounted) return t.skip('mounting a tmpfs is not allowed here');
  // A gateway ran here once: settings, ledger, modes already private.
  const existing = join(mnt, 'sluice');
  const mock = await startMockUpstream();
  try {
    const first = await createGateway({ dataDir: existing, port: 0, env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY }, secrets: null, logger: createLogger({ level: 'error', write: () => {} }) });
    const { token } = await first.tokens.create('t');
    await first.close();
    execFileSync('mount', ['-o', 'remount,ro', mnt], { stdio: 'ignore' });

    // A data dir that does not exist yet cannot be created: the start stops, in words.
    const fresh = join(mnt, 'new-dir');
    await assert.rejects(createGateway({ dataDir: fresh, port: 0, env: {}, secrets: null, logger: createLogger({ level: 'error', write: () => {} }) }), (err: unknown) => {
      assert.ok(err instanceof DataDirError, String(err));
      assert.equal(err.code, 'EROFS');
      assert.match(err.message, new RegExp(`^cannot write the data directory ${fresh}: it is on a read-only file system \\(EROFS\\)\\.`));
      assert.match(err.message, /--data-dir DIR or SLUICE_DATA_DIR=DIR/);
      return true;
    });
    // The CLI prints the same line, not the bare errno.
    let out = '';
    const io: CliIo = { stdout: (s) => { out += s; }, stderr: (s) => { out += s; }, readStdin: async () => '', env: { SLUICE_DATA_DIR: fresh }, platform: 'linux', home: root, onStop: () => {} };
    assert.notEqual(await runCli(['serve', '--port', '0'], io), 0);
    assert.match(out, /cannot write the data directory .*new-dir: it is on a read-only file system \(EROFS\)/);
    assert.doesNotMatch(out, /EROFS: read-only file system, /);

    // The existing private dir on the now read-only mount (modes already right, nothing to
    // chmod): the same line at once, not "unable to open database file" from the first store.
    await assert.rejects(createGateway({ dataDir: existing, port: 0, env: {}, secrets: null, logger: createLogger({ level: 'error', write: () => {} }) }), (err: unknown) => {
      assert.ok(err instanceof DataDirError, String(err));
      assert.match(err.message, new RegExp(`^cannot write the data directory ${existing}: it is on a read-only file system \\(EROFS\\)`));
      return true;
    });
    // Writable again: it starts and serves as before.
    execFileSync('mount', ['-o', 'remount,rw', mnt], { stdio: 'ignore' });
    const gw = await createGateway({ dataDir: existing, port: 0, env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY }, secrets: null, logger: createLogger({ level: 'error', write: () => {} }) });
    try {
      const res = await rawRequest(`${gw.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }) });
      assert.equal(res.status, 200);
    } finally {
      await gw.close();
    }
  } finally {
    await mock.close();
  }
});
