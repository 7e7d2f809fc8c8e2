// Crash safety for real: a child process records a stream of rows and is killed with SIGKILL
// mid-stream; the file must pass integrity_check, its rollups must equal the rows, and every row
// the child reported as flushed must be there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb, pragma, row, rows, value, values, type Db } from './fixtures/sql.js';
import { openLedger } from './ledger.js';
import { rollupMismatches } from './fixtures/check-rollups.js';

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until it has reported `flushes` flushes, waits `extraMs`, then kills it. */
function runAndKill(path: string, flushes: number, extraMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastFlushed = 0;
    let seen = 0;
    let killed = false;
    let buf = '';
    let stderr = '';
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer did not reach ${flushes} flushes in time; stderr: ${stderr}`));
    }, 30_000);
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^flushed (\d+)$/.exec(line);
        if (m === null) continue;
        lastFlushed = Number(m[1]);
        seen++;
        if (seen === flushes && !killed) {
          killed = true;
          setTimeout(() => child.kill('SIGKILL'), extraMs);
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timeout);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited on its own (code ${code}); stderr: ${stderr}`));
      else resolve(lastFlushed);
    });
  });
}

for (const extraMs of [0, 13, 29, 41]) {
  test(`kill -9 ${extraMs} ms after a flush leaves a consistent ledger with every flushed row`, async () => {
    const path = join(dir, `crash-${extraMs}.sqlite`);
    const flushed = await runAndKill(path, 6, extraMs);
    assert.ok(flushed > 0, 'the child reported committed rows');

    const db = openDb(path);
    assert.equal(pragma(db, 'integrity_check'), 'ok');
    const ids = new Set((values(db, 'SELECT id FROM requests') as string[]));
    db.close();
    assert.ok(ids.size >= flushed, `${ids.size} rows stored, ${flushed} reported flushed`);
    const missing: string[] = [];
    for (let i = 0; i < flushed; i++) if (!ids.has(`sluice_r${i}`)) missing.push(`sluice_r${i}`);
    assert.deepEqual(missing.slice(0, 5), []);
    // Rows are queued and committed in order, whole batches at a time: what is stored is exactly
    // a prefix of the stream (a torn batch would leave a gap or a stray row past the end).
    const outside = [...ids].filter((id) => Number(id.slice('sluice_r'.length)) >= ids.size);
    assert.deepEqual(outside.slice(0, 5), []);
    assert.deepEqual(rollupMismatches(path, () => 0), []);

    // And the ledger opens and writes normally afterwards.
    const l = openLedger(path, { tzOffsetMinutes: () => 0 });
    assert.equal(l.totals().requests, ids.size);
    l.close();
  });
}
