import { test } from 'node:test';
import assert from 'node:assert/strict';
import { href, parseRoute } from './routes.js';
import { importRunes } from './testing/runes.js';
import type * as ThemeMod from './theme.svelte.js';

const { Theme } = await importRunes<typeof ThemeMod>('./theme.svelte.ts', import.meta.url);

test('hash routes parse and build both ways', () => {
  assert.deepEqual(parseRoute(''), { page: 'overview' });
  assert.deepEqual(parseRoute('#/'), { page: 'overview' });
  assert.deepEqual(parseRoute('#/sessions'), { page: 'sessions' });
  assert.deepEqual(parseRoute('#/budgets'), { page: 'budgets' });
  assert.deepEqual(parseRoute('#/sessions/a%2Fb'), { page: 'session', id: 'a/b' });
  assert.deepEqual(parseRoute('#/signed-out?error=ADMIN_LOGIN_EXPIRED'), { page: 'signed-out', error: 'ADMIN_LOGIN_EXPIRED' });
  assert.deepEqual(parseRoute('#/nope/x'), { page: 'not-found', path: '/nope/x' });
  for (const r of [{ page: 'overview' }, { page: 'spend' }, { page: 'budgets' }, { page: 'session', id: 'a/b c' }, { page: 'signed-out', error: 'X' }] as const) {
    assert.deepEqual(parseRoute(href(r)), r);
  }
});

test('theme follows the system until chosen; the choice persists and applies', () => {
  const store = new Map<string, string>();
  const applied: string[] = [];
  const env = { storage: { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => { store.set(k, v); } }, prefersDark: () => true, apply: (t: 'light' | 'dark') => { applied.push(t); } };
  const t = new Theme(env);
  assert.equal(t.mode, 'system');
  assert.equal(t.resolved, 'dark');
  t.cycle();
  assert.equal(t.mode, 'light');
  assert.equal(store.get('sluice.theme'), 'light');
  t.systemChanged(false);
  t.cycle();
  assert.equal(t.resolved, 'dark');
  assert.deepEqual(applied, ['dark', 'light', 'light', 'dark']);
  const again = new Theme(env);
  assert.equal(again.mode, 'dark', 'remembered');
});
