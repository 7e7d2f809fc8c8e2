import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings, SettingsError } from '../store/settings.js';

test('provider types: defaults per family; compatible ones need a base URL', () => {
  const s = parseSettings({ version: 1, providers: { oai: { type: 'openai' }, local: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1', auth: 'none' } } });
  assert.equal(s.providers.oai!.baseUrl, 'https://api.openai.com/v1');
  assert.equal(s.providers.anthropic.baseUrl, 'https://api.anthropic.com');
  assert.equal(s.providers.anthropic.type, 'anthropic');
  assert.equal(s.providers.local!.auth, 'none');
  assert.deepEqual(s.providers.local!.models, []);
  assert.equal(s.providers.local!.discoverModels, true);
  assert.throws(() => parseSettings({ version: 1, providers: { x: { type: 'anthropic-compatible' } } }), (e: SettingsError) => e.problems.includes('providers.x.baseUrl: required for type "anthropic-compatible"'));
  assert.throws(() => parseSettings({ version: 1, providers: { anthropic: { type: 'openai' } } }), (e: SettingsError) => e.problems.some((p) => p.startsWith('providers.anthropic.type')));
});

test('routing defaults, and rules checked against the providers', () => {
  const s = parseSettings({ version: 1 });
  const { smart, ...rest } = s.routing;
  assert.deepEqual(rest, { backgroundModels: '*haiku*', longContextTokens: 100_000, rules: [], modelsCacheMs: 3_600_000 });
  // The smart section defaults to the Anthropic tier map, no rules, no cascades.
  assert.deepEqual(smart.tiers.complex, { provider: 'anthropic', model: 'claude-opus-5-5' });
  assert.deepEqual([smart.rules, smart.cascades], [[], []]);
  assert.throws(
    () => parseSettings({ version: 1, routing: { rules: [{ name: 'r', match: { scenario: 'background' }, target: { provider: 'deepseek', model: 'm' } }] } }),
    (e: SettingsError) => e.problems.includes('routing.rules.0.target.provider: "deepseek" is not a configured provider'),
  );
  assert.throws(() => parseSettings({ version: 1, routing: { rules: [{ name: 'r', match: { scenario: 'daytime' }, target: { provider: 'anthropic' } }] } }), SettingsError);
  const ok = parseSettings({ version: 1, providers: { deepseek: { type: 'openai-compatible', baseUrl: 'https://api.deepseek.com/v1' } }, routing: { rules: [{ name: 'r', match: { scenario: 'background' }, target: { provider: 'deepseek', model: 'm' } }] } });
  assert.deepEqual(ok.routing.rules[0]!.fallbacks, []);
});

test('smart rules: exactly one target kind, a known cascade, tier and step providers configured', () => {
  const problems = (routing: unknown) => {
    try {
      parseSettings({ version: 1, routing });
      return [];
    } catch (e) {
      return (e as SettingsError).problems;
    }
  };
  assert.deepEqual(problems({ rules: [{ name: 't', tiers: true }] }), []);
  assert.ok(problems({ rules: [{ name: 't', tiers: true, target: { provider: 'anthropic' } }] }).includes('routing.rules.0: give exactly one of "target", "arms", "tiers" and "cascade"'));
  assert.ok(problems({ rules: [{ name: 'c', cascade: 'nope' }] }).includes('routing.rules.0.cascade: "nope" is not defined in routing.smart.cascades'));
  const p = problems({
    smart: { tiers: { simple: { provider: 'cheap', model: 'x' } }, cascades: [{ name: 'up', tiers: [{ provider: 'gone', model: 'a' }, { provider: 'anthropic', model: 'b' }] }] },
    rules: [{ name: 't1', tiers: true }, { name: 't2', tiers: true }, { name: 'c', cascade: 'up' }],
  });
  // The shared tier map's problem is listed once, though two rules use it.
  assert.deepEqual(p.filter((x) => x.startsWith('routing.smart.tiers.simple')), ['routing.smart.tiers.simple.provider: "cheap" is not a configured provider']);
  assert.ok(p.includes('routing.smart.cascades.0.tiers.0.provider: "gone" is not a configured provider'));
});
