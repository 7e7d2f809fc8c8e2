// Tests for loading the bundled table from disk, including the dist/ fallback path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadBundledPrices, PriceTableError } from './index.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-pricing-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('loads prices.json beside the module', async () => {
  const t = await loadBundledPrices();
  const raw = JSON.parse(await readFile(new URL('./prices.json', import.meta.url), 'utf8'));
  assert.deepEqual(Object.keys(t.models), Object.keys(raw.models));
});

test('falls back to the next candidate when the first is missing', async () => {
  const second = join(dir, 'second.json');
  const table = { updated: '2026-01-02', source: 's', currency: 'USD', unit: 'per_million_tokens', models: {} };
  await writeFile(second, JSON.stringify(table));
  const t = await loadBundledPrices([pathToFileURL(join(dir, 'missing.json')), pathToFileURL(second)]);
  assert.equal(t.updated, '2026-01-02');
});

test('no file, or a broken one, is a PriceTableError', async () => {
  await assert.rejects(loadBundledPrices([pathToFileURL(join(dir, 'nope.json'))]), (e: unknown) => e instanceof PriceTableError && /not found/.test(e.message));
  const broken = join(dir, 'broken.json');
  await writeFile(broken, '{"updated":');
  await assert.rejects(loadBundledPrices([pathToFileURL(broken)]), (e: unknown) => e instanceof PriceTableError && /not valid JSON/.test(e.message));
});
