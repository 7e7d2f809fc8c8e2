import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRoute, directTarget, estimateTokens, pickArm, stickyPoint, type RequestFacts } from './rules.js';
import { RoutingSettingsSchema, routingProblems, type RoutingSettings } from './schema.js';

const providers = { anthropic: {}, deepseek: {}, openrouter: {}, local: {} };

function routing(rules: unknown[], extra: Record<string, unknown> = {}): RoutingSettings {
  return RoutingSettingsSchema.parse({ rules, ...extra });
}

function facts(f: Partial<RequestFacts> = {}): RequestFacts {
  return { model: 'claude-sonnet-4-6', tool: 'claude-code', subagent: false, bodyBytes: 1000, thinking: () => false, stickyKey: 'session-1', ...f };
}

test('first match wins, and every condition of a match must hold', () => {
  const r = routing([
    { name: 'cline-haiku', match: { tool: 'cline', model: '*haiku*' }, target: { provider: 'local', model: 'qwen3' } },
    { name: 'haiku', match: { model: '*haiku*' }, target: { provider: 'deepseek', model: 'deepseek-chat' } },
    { name: 'rest', match: {}, target: { provider: 'openrouter', model: 'x/y' } },
  ]);
  assert.equal(decideRoute(r, providers, facts({ model: 'claude-haiku-4-5', tool: 'cline' }), 'q')?.rule, 'cline-haiku');
  assert.equal(decideRoute(r, providers, facts({ model: 'claude-haiku-4-5', tool: 'claude-code' }), 'q')?.rule, 'haiku');
  assert.deepEqual(decideRoute(r, providers, facts({ model: 'claude-opus-4-8' }), 'q'), { rule: 'rest', arm: null, chain: [{ provider: 'openrouter', model: 'x/y' }] });
});

test('scenarios: background by the background glob, subagent, long_context by size, thinking', () => {
  const r = routing([
    { name: 'bg', match: { scenario: 'background' }, target: { provider: 'deepseek', model: 'm1' } },
    { name: 'sub', match: { scenario: 'subagent' }, target: { provider: 'deepseek', model: 'm2' } },
    { name: 'long', match: { scenario: 'long_context' }, target: { provider: 'deepseek', model: 'm3' } },
    { name: 'think', match: { scenario: 'thinking' }, target: { provider: 'deepseek', model: 'm4' } },
  ], { backgroundModels: 'claude-3-5-haiku*', longContextTokens: 5000 });
  assert.equal(decideRoute(r, providers, facts({ model: 'claude-3-5-haiku-20241022' }), 'q')?.rule, 'bg');
  assert.equal(decideRoute(r, providers, facts({ model: 'claude-haiku-4-5' }), 'q'), null, 'the configured glob decides, not the word haiku');
  assert.equal(decideRoute(r, providers, facts({ subagent: true }), 'q')?.rule, 'sub');
  assert.equal(decideRoute(r, providers, facts({ bodyBytes: 20_004 }), 'q')?.rule, 'long');
  assert.equal(decideRoute(r, providers, facts({ bodyBytes: 20_000 }), 'q'), null, '20,000 bytes is 5,000 tokens: not above');
  let asked = 0;
  assert.equal(decideRoute(r, providers, facts({ thinking: () => { asked++; return true; } }), 'q')?.rule, 'think');
  assert.equal(asked, 1);
  assert.equal(estimateTokens(4001), 1001);
});

test('the body is not inspected for thinking unless a rule asks', () => {
  const r = routing([{ name: 'all', match: { model: 'claude-*' }, target: { provider: 'deepseek', model: 'm' } }]);
  decideRoute(r, providers, facts({ thinking: () => { throw new Error('must not be called'); } }), 'q');
});

test('an alias matches only that exact model name', () => {
  const r = routing([{ name: 'fast', match: { alias: 'fast' }, target: { provider: 'deepseek', model: 'deepseek-chat' }, fallbacks: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] }]);
  assert.deepEqual(decideRoute(r, providers, facts({ model: 'fast' }), 'q')?.chain, [{ provider: 'deepseek', model: 'deepseek-chat' }, { provider: 'anthropic', model: 'claude-haiku-4-5' }]);
  assert.equal(decideRoute(r, providers, facts({ model: 'faster' }), 'q'), null);
});

test('<provider>/<model> addresses a configured provider directly, with or without the Claude Code prefix', () => {
  assert.deepEqual(directTarget('openrouter/deepseek/deepseek-chat', providers), { provider: 'openrouter', model: 'deepseek/deepseek-chat' });
  assert.deepEqual(directTarget('claude-via/local/qwen3:8b', providers), { provider: 'local', model: 'qwen3:8b' });
  assert.equal(directTarget('anthropic/claude-sonnet-4.5', providers), null, 'an aggregator spelling of a Claude id');
  assert.equal(directTarget('nowhere/model', providers), null);
  assert.equal(directTarget('deepseek/', providers), null);
  assert.deepEqual(decideRoute(routing([]), providers, facts({ model: 'deepseek/deepseek-reasoner' }), 'q'), { rule: 'direct', arm: null, chain: [{ provider: 'deepseek', model: 'deepseek-reasoner' }] });
});

test('A/B: weights hold within tolerance over 10,000 sessions, and each session is sticky', () => {
  const r = routing([{ name: 'ab', match: {}, arms: [
    { name: 'control', weight: 70, target: { provider: 'anthropic' } },
    { name: 'deepseek', weight: 20, target: { provider: 'deepseek', model: 'deepseek-chat' } },
    { name: 'off', weight: 0, target: { provider: 'local', model: 'never' } },
    { name: 'router', weight: 10, target: { provider: 'openrouter', model: 'x/y' } },
  ] }]);
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const key = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    const d = decideRoute(r, providers, facts({ stickyKey: key }), `req-${i}`)!;
    counts.set(d.arm!, (counts.get(d.arm!) ?? 0) + 1);
    // The same session again (another request id) lands in the same arm.
    if (i % 100 === 0) assert.equal(decideRoute(r, providers, facts({ stickyKey: key }), `other-${i}`)!.arm, d.arm);
  }
  // Binomial sd at n=10,000 is under 50 for these shares; 3 sd is the tolerance.
  assert.ok(Math.abs(counts.get('control')! - 7000) < 150, `control ${counts.get('control')}`);
  assert.ok(Math.abs(counts.get('deepseek')! - 2000) < 120, `deepseek ${counts.get('deepseek')}`);
  assert.ok(Math.abs(counts.get('router')! - 1000) < 90, `router ${counts.get('router')}`);
  assert.equal(counts.get('off'), undefined, 'a weight of 0 never wins');
});

test('A/B without a session or token falls back to the request id (not sticky, still weighted)', () => {
  const r = routing([{ name: 'ab', match: {}, arms: [{ name: 'a', weight: 1, target: { provider: 'anthropic' } }, { name: 'b', weight: 1, target: { provider: 'deepseek', model: 'm' } }] }]);
  const arms = new Set<string>();
  for (let i = 0; i < 50; i++) arms.add(decideRoute(r, providers, facts({ stickyKey: null }), `req-${i}`)!.arm!);
  assert.deepEqual([...arms].sort(), ['a', 'b']);
});

test('pickArm covers the unit interval by weight; stickyPoint depends on rule and key', () => {
  const arms = [{ name: 'a', weight: 1, target: { provider: 'anthropic' } }, { name: 'b', weight: 3, target: { provider: 'anthropic' } }];
  assert.equal(pickArm(arms, 0).name, 'a');
  assert.equal(pickArm(arms, 0.2499).name, 'a');
  assert.equal(pickArm(arms, 0.25).name, 'b');
  assert.equal(pickArm(arms, 0.9999999).name, 'b');
  assert.equal(stickyPoint('r', 'k'), stickyPoint('r', 'k'));
  assert.notEqual(stickyPoint('r1', 'k'), stickyPoint('r2', 'k'));
  const p = stickyPoint('r', 'k');
  assert.ok(p >= 0 && p < 1);
});

test('routingProblems names unknown providers, target/arms mistakes, duplicates and zero weights', () => {
  const r = routing([
    { name: 'x', match: {}, target: { provider: 'nope' } },
    { name: 'x', match: {}, arms: [{ name: 'a', weight: 0, target: { provider: 'anthropic' } }, { name: 'a', weight: 0, target: { provider: 'anthropic' } }] },
    { name: 'y', match: {} },
    { name: 'z', match: {}, target: { provider: 'anthropic' }, fallbacks: [{ provider: 'gone' }] },
  ]);
  assert.deepEqual(routingProblems(r, { anthropic: {} }), [
    'routing.rules.0.target.provider: "nope" is not a configured provider',
    'routing.rules.1.name: "x" is used by an earlier rule',
    'routing.rules.1.arms.1.name: "a" is used twice in this rule',
    'routing.rules.1.arms: the weights must add up to more than 0',
    'routing.rules.2: give exactly one of "target", "arms", "tiers" and "cascade"',
    'routing.rules.3.fallbacks.0.provider: "gone" is not a configured provider',
  ]);
});
