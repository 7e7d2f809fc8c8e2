// The routing rule form: drafts round-trip every rule kind, the page's own checks, and which of
// the gateway's problems belong to the edited rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteRuleSchema } from '../../../../proxy/routing/schema.js';
import type { RouteRule } from '../../lib/api.js';
import { describeMatch, describeTarget, emptyArm, emptyDraft, fromDraft, problemsFor, toDraft } from './rule-form.js';

const TARGET: RouteRule = { name: 'haiku', match: { model: 'claude-haiku-*', tool: 'cline' }, target: { provider: 'second', model: 'small' }, fallbacks: [{ provider: 'anthropic' }, { provider: 'or', model: 'anthropic/claude-x' }] };
const ARMS: RouteRule = { name: 'ab', match: { scenario: 'background' }, arms: [{ name: 'a', weight: 3, target: { provider: 'anthropic' } }, { name: 'b', weight: 1, target: { provider: 'second', model: 'm' } }], fallbacks: [] };
const TIERS: RouteRule = { name: 'smart', match: {}, tiers: true, fallbacks: [] };

test('target, arms and smart rules survive a round trip through the form, and parse with the schema', () => {
  for (const r of [TARGET, ARMS, TIERS]) {
    const back = fromDraft(toDraft(r), []);
    assert.ok('rule' in back, JSON.stringify(back));
    assert.deepEqual(back.rule, r);
    assert.deepEqual(RouteRuleSchema.parse(back.rule), r);
  }
  // A model id with slashes stays whole after the provider.
  assert.equal(toDraft(TARGET).fallbacks, 'anthropic\nor/anthropic/claude-x');
});

test('the page refuses bad names, duplicate names, one arm, bad weights and zero totals', () => {
  const d = { ...emptyDraft('second'), name: 'has space' };
  assert.deepEqual(Object.keys((fromDraft(d, []) as { errors: object }).errors), ['name']);
  assert.match((fromDraft({ ...d, name: 'x' }, ['x']) as { errors: Record<string, string> }).errors.name!, /already called "x"/);
  const arms = { ...emptyDraft(), name: 'ab', kind: 'arms' as const, arms: [{ ...emptyArm(), name: 'a' }] };
  assert.match((fromDraft(arms, []) as { errors: Record<string, string> }).errors.arms!, /at least two arms/);
  const two = { ...arms, arms: [{ ...emptyArm(), name: 'a', weight: '-1' }, { ...emptyArm(), name: 'a', weight: '' }] };
  assert.deepEqual(Object.keys((fromDraft(two, []) as { errors: object }).errors).sort(), ['arm.0.weight', 'arm.1.name', 'arm.1.weight']);
  const zero = { ...arms, arms: [{ ...emptyArm(), name: 'a', weight: '0' }, { ...emptyArm(), name: 'b', weight: '0' }] };
  assert.match((fromDraft(zero, []) as { errors: Record<string, string> }).errors.arms!, /more than 0/);
  assert.match((fromDraft({ ...d, name: 'ok', fallbacks: 'second/' }, []) as { errors: Record<string, string> }).errors.fallbacks!, /provider\/model/);
  assert.ok('rule' in fromDraft({ ...d, name: 'ok' }, []));
});

test('the gateway problems shown are those of the edited rule, without the prefix', () => {
  const msg = 'Invalid settings: routing.rules.0.target.provider: "a" is not a configured provider; routing.rules.1.fallbacks.0.provider: "b" is not a configured provider.';
  assert.deepEqual(problemsFor(msg, 1), ['fallbacks.0.provider: "b" is not a configured provider']);
  assert.deepEqual(problemsFor(msg, 0), ['target.provider: "a" is not a configured provider']);
  assert.equal(problemsFor(msg, 2).length, 2, 'problems of other rules are all shown when none is this one\'s');
  assert.deepEqual(problemsFor('Invalid settings: routing.rules.3: give exactly one of "target", "arms".', 3), ['give exactly one of "target", "arms"']);
  assert.deepEqual(problemsFor('Something else.', 0), ['Something else']);
});

test('the list describes matches and targets, with arm shares in percent', () => {
  assert.equal(describeMatch(TARGET), 'model claude-haiku-* · tool cline');
  assert.equal(describeMatch(TIERS), 'every request');
  assert.equal(describeTarget(TARGET), 'second/small');
  assert.equal(describeTarget(ARMS), 'a 75% → anthropic, b 25% → second/m');
  assert.equal(describeTarget(TIERS), 'complexity tiers (routing.smart.tiers)');
});

test('tiers and cascade are choices of their own: drafted, validated, and written back', () => {
  const tiers = fromDraft({ ...emptyDraft(), name: 'smart', kind: 'tiers' }, []);
  assert.ok('rule' in tiers);
  assert.equal(tiers.rule.tiers, true);
  assert.equal(tiers.rule.target, undefined);
  const noName = fromDraft({ ...emptyDraft(), name: 'c', kind: 'cascade', cascade: '' }, []);
  assert.deepEqual(Object.keys((noName as { errors: object }).errors), ['cascade']);
  const cascade = fromDraft({ ...emptyDraft(), name: 'c', kind: 'cascade', cascade: 'cheap-first' }, []);
  assert.ok('rule' in cascade);
  assert.equal(cascade.rule.cascade, 'cheap-first');
  assert.equal(toDraft(cascade.rule).kind, 'cascade');
  assert.equal(toDraft(cascade.rule).cascade, 'cheap-first');
  assert.equal(toDraft(tiers.rule).kind, 'tiers');
});
