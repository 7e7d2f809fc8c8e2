// Nothing lost silently, on a real filesystem: the data dir on a small tmpfs that fills up
// mid-traffic. Needs mount(2) (root in a container or VM); where it
// is not allowed the tests skip and proxy/ledger/spool.test.ts covers the same path by injection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import type { LedgerStorageState } from '../proxy/ledger/index.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import { authHeaders, PROVIDER_KEY, rawRequest, until } from './helpers.js';

let root: string;
let mnt: string;
let mounted = false;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-fulldisk-'));
  mnt = join(root, 'mnt');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'ignore' });
    mounted = true;
  } catch {
    mounted = false;
  }
});
after(() => {
  if (mounted) execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
});

/** Fills the filesystem holding `dir` until it refuses more; returns the filler's path. */
function fill(dir: string): string {
  const p = join(dir, 'filler.bin');
  const fd = openSync(p, 'w');
  try {
    for (const size of [256 * 1024, 4096, 512, 1]) {
      const buf = Buffer.alloc(size, 7);
      for (;;) {
        try {
          writeSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return p;
}

test('a data dir that fills up mid-traffic: requests still served, one log line, /health says so, every row lands once space returns', { timeout: 60_000 }, async (t) => {
  if (!mounted) return t.skip('mounting a tmpfs is not allowed here');
  const dataDir = join(mnt, 'full');
  mkdirSync(dataDir);
  let mock: MockUpstream | null = null;
  let gw: Gateway | null = null;
  const logs: string[] = [];
  try {
    mock = await startMockUpstream();
    gw = await createGateway({
      dataDir, port: 0,
      env: { SLUICE_ANTHROPIC_BASE_URL: mock.url, SLUICE_ANTHROPIC_API_KEY: PROVIDER_KEY },
      secrets: null,
      logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    });
    const { token } = await gw.tokens.create('fill-test');
    const send = async (k: number) => {
      for (let i = 0; i < k; i++) {
        const res = await rawRequest(`${gw!.url}/v1/messages`, { method: 'POST', headers: authHeaders(token), body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [] }) });
        assert.equal(res.status, 200, 'served whatever the disk does');
      }
    };
    await send(10);
    await gw.flushUsage();
    assert.equal(gw.ledger!.totals().requests, 10);

    const filler = fill(dataDir);
    await send(40);
    await gw.flushUsage();
    const h = gw.health().ledger as LedgerStorageState;
    assert.equal(h.ok, false);
    assert.equal(h.pending, 40, 'every row of the full-disk window is held');
    assert.match(h.error ?? '', /full|disk|I\/O/i);
    assert.equal(logs.filter((l) => l.includes('usage ledger: cannot write')).length, 1, 'one clear line, not one per request');

    unlinkSync(filler);
    await until(() => (gw!.health().ledger as LedgerStorageState).ok, 'the ledger writes again by itself');
    await gw.flushUsage();
    assert.equal(gw.ledger!.totals().requests, 50, 'no row lost, none twice');
    assert.ok(logs.some((l) => l.includes('usage ledger: writing again; 40 held rows stored')), logs.join('\n'));
  } finally {
    await gw?.close({ drainMs: 1000 });
    await mock?.close();
  }
});
