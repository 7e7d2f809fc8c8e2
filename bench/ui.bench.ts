// Dashboard first-paint benchmark: a 1,000,000-row ledger behind a real gateway with the admin
// extension, measured in headless Chromium. For Sessions and Spend it reports the time from
// navigation start to the first render with data (the page's `data-ready` attribute, set from
// performance.now()), median of 5 cold page loads.
// Usage: npm run build:ui && node --import tsx bench/ui.bench.ts [--rows 1000000]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createGateway } from '../proxy/gateway.js';
import { createLogger } from '../proxy/log.js';
import { openLedger } from '../proxy/ledger/ledger.js';
import { adminExtension } from '../proxy/admin/index.js';
import { packageRoot } from '../proxy/admin/static-ui.js';
import { seedLedger } from '../test/ui/seed.js';
import { browserUnavailable, launchBrowser } from '../test/ui/browser.js';

const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const ROWS = rowsArg === -1 ? 1_000_000 : Number(args[rowsArg + 1]);
if (!Number.isInteger(ROWS) || ROWS < 1) {
  console.error('--rows must be a positive integer');
  process.exit(2);
}
const RUNS = 5;
const uiDir = join(packageRoot(), 'renderer', 'dist');
if (!existsSync(join(uiDir, 'index.html'))) {
  console.error('renderer/dist is missing: run `npm run build:ui` first');
  process.exit(2);
}
const noBrowser = browserUnavailable();
if (noBrowser) {
  console.error(`cannot run: ${noBrowser}`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-ui-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const ledger = openLedger(join(dir, 'ledger.sqlite'));
  const t0 = performance.now();
  // 2,000 sessions over 60 days, like bench/ledger.bench.ts, through the same write path as imports.
  seedLedger(ledger, { now: Date.now() - 60_000, days: 60, sessions: 2_000, requests: ROWS, idPrefix: 'bench' });
  const fillSec = (performance.now() - t0) / 1000;

  const admin = adminExtension({ uiDir });
  const gw = await createGateway({ dataDir: dir, port: 0, secrets: null, env: {}, logger: createLogger({ level: 'silent' }), ledger, extensions: [admin] });
  const browser = await launchBrowser();
  try {
    const page = browser.context.pages()[0] ?? await browser.context.newPage();
    await page.goto(admin.createLoginUrl());
    await page.waitForURL(`${gw.url}/ui/`);
    const results: { page: string; runs: number[]; api: number[] }[] = [];
    for (const [name, hash, selector, api] of [
      ['Sessions', '#/sessions', '[data-testid="page-sessions"][data-ready]', '/admin/api/sessions?sort=lastSeen&order=desc&limit=25&offset=0'],
      ['Spend (30 days)', '#/spend', '[data-testid="page-spend"][data-ready]', '/admin/api/report?by=day&limit=400'],
    ] as const) {
      const runs: number[] = [];
      const apiTimes: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        // A cold page load each time: the app boots, fetches and renders from scratch.
        await page.goto('about:blank');
        await page.goto(`${gw.url}/ui/${hash}`);
        const el = await page.waitForSelector(selector, { timeout: 60_000 });
        runs.push(Number(await el.getAttribute('data-ready')));
        apiTimes.push(await page.evaluate(async (u) => { const a = performance.now(); await (await fetch(u)).text(); return performance.now() - a; }, api));
      }
      results.push({ page: name, runs, api: apiTimes });
    }
    console.log(`\nDashboard first meaningful paint, ${ROWS.toLocaleString('en-US')} ledger rows (filled in ${fillSec.toFixed(1)} s), headless Chromium, median of ${RUNS} cold loads\n`);
    console.log('| page | first data paint (median) | min | max | its API call (median) |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of results) {
      console.log(`| ${r.page} | ${median(r.runs).toFixed(0)} ms | ${Math.min(...r.runs).toFixed(0)} ms | ${Math.max(...r.runs).toFixed(0)} ms | ${median(r.api).toFixed(1)} ms |`);
    }
  } finally {
    await browser.close();
    await gw.close({ drainMs: 1000 });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
