// The Sessions controller: sort toggling, paging bounds, debounced search, stale answers dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importRunes } from './testing/runes.js';
import type * as Mod from './sessions.svelte.js';
import type { SessionPage, SessionsQuery } from './api.js';

const { SessionsController } = await importRunes<typeof Mod>('./sessions.svelte.ts', import.meta.url);

function page(total: number, n: number): SessionPage {
  return { total, sessions: Array.from({ length: n }, (_, i) => ({ sessionId: `s${i}` }) as SessionPage['sessions'][number]) };
}

function fake(total = 60) {
  const calls: SessionsQuery[] = [];
  const load = async (q: SessionsQuery) => {
    calls.push(q);
    const n = Math.max(0, Math.min(q.limit!, total - q.offset!));
    return page(total, n);
  };
  return { calls, load };
}

test('starts newest first, 25 a page', async () => {
  const f = fake();
  const c = new SessionsController({ load: f.load });
  await c.load();
  assert.deepEqual(f.calls[0], { sort: 'lastSeen', order: 'desc', limit: 25, offset: 0 });
  assert.equal(c.total, 60);
  assert.equal(c.pageCount, 3);
  assert.deepEqual(c.range, { from: 1, to: 25 });
});

test('sorting: same column flips, another column takes its natural order and resets paging', async () => {
  const f = fake();
  const c = new SessionsController({ load: f.load });
  await c.load();
  await c.next();
  assert.equal(c.page, 1);
  await c.toggleSort('cost');
  assert.equal(c.sort, 'cost');
  assert.equal(c.order, 'desc');
  assert.equal(c.page, 0);
  assert.equal(c.ariaSort('cost'), 'descending');
  assert.equal(c.ariaSort('tool'), 'none');
  await c.toggleSort('cost');
  assert.equal(c.order, 'asc');
  assert.equal(c.ariaSort('cost'), 'ascending');
  await c.toggleSort('tool');
  assert.equal(c.order, 'asc', 'text columns start A to Z');
  assert.deepEqual(f.calls.at(-1), { sort: 'tool', order: 'asc', limit: 25, offset: 0 });
});

test('paging stops at both ends', async () => {
  const f = fake(60);
  const c = new SessionsController({ load: f.load });
  await c.load();
  await c.prev();
  assert.equal(c.page, 0);
  assert.equal(f.calls.length, 1, 'prev on the first page loads nothing');
  await c.next();
  await c.next();
  assert.equal(c.page, 2);
  assert.deepEqual(c.range, { from: 51, to: 60 });
  assert.equal(c.hasNext, false);
  await c.next();
  assert.equal(c.page, 2);
  assert.equal(f.calls.at(-1)!.offset, 50);
});

test('search is debounced, trimmed and goes back to page 1', async () => {
  const f = fake();
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const c = new SessionsController({
    load: f.load,
    setTimer: (fn, ms) => { const t = { fn, ms, cleared: false }; timers.push(t); return t; },
    clearTimer: (t) => { (t as { cleared: boolean }).cleared = true; },
  });
  await c.load();
  await c.next();
  c.setSearch('ab');
  c.setSearch(' abc ');
  assert.equal(c.page, 0);
  assert.equal(timers.length, 2);
  assert.equal(timers[0]!.cleared, true);
  assert.equal(timers[1]!.ms, 200);
  const before = f.calls.length;
  timers[1]!.fn();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(f.calls.length, before + 1);
  assert.equal(f.calls.at(-1)!.search, 'abc');
  assert.equal(f.calls.at(-1)!.offset, 0);
});

test('an older answer arriving late does not replace a newer one', async () => {
  const resolvers: ((p: SessionPage) => void)[] = [];
  const c = new SessionsController({ load: () => new Promise<SessionPage>((r) => resolvers.push(r)) });
  const first = c.load();
  const second = c.load();
  resolvers[1]!(page(2, 2));
  resolvers[0]!(page(99, 25));
  await Promise.all([first, second]);
  assert.equal(c.total, 2);
  assert.equal(c.loading, false);
});

test('an error is kept until the next good answer', async () => {
  let fail = true;
  const c = new SessionsController({ load: async () => { if (fail) throw new Error('boom'); return page(1, 1); } });
  await c.load();
  assert.equal((c.error as Error).message, 'boom');
  fail = false;
  await c.load();
  assert.equal(c.error, null);
  assert.equal(c.total, 1);
});

test('a page emptied under the user jumps to the last page that has rows', async () => {
  let total = 60;
  const calls: SessionsQuery[] = [];
  const c = new SessionsController({
    load: async (q) => { calls.push(q); return page(total, Math.max(0, Math.min(q.limit!, total - q.offset!))); },
  });
  await c.load();
  await c.next();
  await c.next();
  total = 30;
  await c.load();
  assert.equal(c.page, 1);
  assert.equal(calls.at(-1)!.offset, 25);
});
