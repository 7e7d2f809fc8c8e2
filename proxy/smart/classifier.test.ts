import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanTopLevel } from '../json-scan.js';
import { createPriceBook } from '../pricing/cost.js';
import { loadBundledPrices } from '../pricing/index.js';
import { classify, compileClassifierConfig } from './classifier.js';
import { extractFeatures } from './features.js';
import { parseSmartSettings, SmartSettingsError, SmartSettingsSchema, TIERS, type SmartSettings } from './schema.js';
import * as fx from './fixtures/claude-code.js';

const config = (raw: unknown = {}) => compileClassifierConfig(SmartSettingsSchema.parse(raw));
const run = (body: Buffer, cfg = config()) => classify(extractFeatures(body, scanTopLevel(body)), cfg);

test('fixtures land in their tiers, for the stated reason', () => {
  const cases: [string, Buffer, string, RegExp][] = [
    ['title generation', fx.titleRequest(), 'simple', /^background shape: 0 tools, max_tokens 512/],
    ['topic detection (code in the prompt)', fx.topicRequest(), 'simple', /^background shape/],
    ['quota probe', fx.quotaProbeRequest(), 'simple', /max_tokens 1 <=/],
    ['short chat question', fx.shortChatRequest(), 'simple', /^short chat/],
    ['main loop, one-line prompt', fx.mainLoopRequest(), 'moderate', /^24 tools offered$/],
    ['agent loop continuing', fx.agentLoopRequest(), 'moderate', /^agent loop continues \(1 tool results\)$/],
    ['subagent', fx.subagentRequest(), 'moderate', /^16 tools offered$/],
    ['thinking (ultrathink budget)', fx.thinkingRequest(), 'complex', /^thinking budget 31,999 >= 16,000$/],
    ['long context', fx.longContextRequest(600_000), 'complex', /input tokens >= 100,000$/],
    ['big code paste', fx.codePasteRequest(), 'complex', /^code in 65,536 characters of user text >= 4,000$/],
  ];
  for (const [name, body, tier, reason] of cases) {
    const c = run(body);
    assert.equal(c.tier, tier, `${name}: ${c.reasons.join('; ')}`);
    assert.ok(c.reasons.some((r) => reason.test(r)), `${name}: ${c.reasons.join('; ')}`);
    assert.equal(c.rule, null);
  }
});

test('the background shape needs every condition', () => {
  const title = JSON.parse(fx.titleRequest().toString()) as Record<string, unknown>;
  // Tools offered: Claude Code's Explore agent runs on Haiku too, but works.
  const withTool = run(Buffer.from(JSON.stringify({ ...title, tools: [{ name: 'Read', description: 'r', input_schema: { type: 'object' } }] })));
  assert.equal(withTool.tier, 'moderate');
  // A small max_tokens on a huge input is not background work (and not for the smallest window).
  const huge = run(Buffer.from(JSON.stringify({ ...title, messages: [{ role: 'user', content: 'summarise: ' + 'word '.repeat(60_000) }] })));
  assert.equal(huge.tier, 'moderate');
  assert.ok(!huge.reasons.some((r) => r.startsWith('background')));
  // The same request with a larger answer budget falls to the short-chat rule instead.
  const bigger = run(Buffer.from(JSON.stringify({ ...title, max_tokens: 8192 })));
  assert.equal(bigger.tier, 'simple');
  assert.match(bigger.reasons[0]!, /^short chat/);
});

test('user rules come first, first match wins, on the user text only', () => {
  const cfg = config({ rules: [
    { pattern: '\\btitle\\b', flags: 'i', tier: 'complex' },
    { pattern: 'checkout', tier: 'simple' },
    { pattern: 'empty cart', tier: 'complex' },
    { pattern: 'claudeMd', tier: 'complex' },
    { pattern: 'not user text', tier: 'complex' },
  ] });
  const title = run(fx.titleRequest(), cfg);
  assert.equal(title.tier, 'complex');
  assert.equal(title.rule, 0);
  assert.deepEqual(title.reasons, ['rule 1 /\\btitle\\b/i matched the last user turn']);
  // Both rule 2 and rule 3 match; the earlier one decides.
  const main = run(fx.mainLoopRequest('why does checkout fail on an empty cart?'), cfg);
  assert.equal(main.tier, 'simple');
  assert.equal(main.rule, 1);
  // Rules beat heuristics: the thinking request is complex by heuristics, a rule makes it simple.
  assert.equal(run(fx.thinkingRequest(), config({ rules: [{ pattern: '^ultrathink', tier: 'simple' }] })).tier, 'simple');
  // The CLAUDE.md reminder and tool output are not the user's words.
  const reminderOnly = config({ rules: [{ pattern: 'claudeMd', tier: 'complex' }] });
  assert.equal(run(fx.mainLoopRequest('hello'), reminderOnly).rule, null);
  const toolText = config({ rules: [{ pattern: 'export async function', tier: 'complex' }] });
  assert.equal(run(fx.agentLoopRequest(), toolText).rule, null);
});

test('thresholds are configurable and null turns a check off', () => {
  const noLong = run(fx.longContextRequest(600_000), config({ thresholds: { complex: { inputTokens: null } } }));
  assert.equal(noLong.tier, 'moderate');
  const higherBudget = run(fx.thinkingRequest(), config({ thresholds: { complex: { thinkingBudget: 40_000 } } }));
  assert.equal(higherBudget.tier, 'moderate');
  assert.ok(higherBudget.reasons.includes('thinking (budget 31,999)'));
  const fewMessages = run(fx.agentLoopRequest(3), config({ thresholds: { complex: { messages: 7 } } }));
  assert.equal(fewMessages.tier, 'complex');
  assert.deepEqual(fewMessages.reasons, ['7 messages >= 7']);
  const generousSimple = run(fx.mainLoopRequest(), config({ thresholds: { simple: { maxTools: 30, maxInputTokens: 50_000 } } }));
  assert.equal(generousSimple.tier, 'simple');
});

test('unreadable parts are named in the reasons', () => {
  const body = Buffer.from('{"model":"m","max_tokens":4000,"messages":[{"role":"user","content":[1 2]}]}');
  const c = run(body);
  assert.equal(c.tier, 'simple');
  assert.equal(c.reasons[0], 'could not read last turn; decided from the rest');
});

test('the classification carries ledger-safe, JSON-serialisable features', () => {
  const c = run(fx.mainLoopRequest('the secret word is swordfish'));
  assert.equal(JSON.stringify(c.features).includes('swordfish'), false);
  assert.deepEqual(JSON.parse(JSON.stringify(c.features)), c.features);
  assert.equal(c.features.toolCount, 24);
});

test('classification of a 5 MB body reads only the last message (well under 5 ms)', () => {
  // Earlier messages are huge and would cost tens of ms to parse; the last one is tiny.
  const filler = 'lorem ipsum dolor sit amet '.repeat(40_000);
  const messages: unknown[] = [];
  for (let i = 0; i < 5; i++) messages.push({ role: 'user', content: [{ type: 'text', text: filler }] }, { role: 'assistant', content: 'noted' });
  messages.push({ role: 'user', content: 'and now a short question' });
  const body = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 1000, messages }));
  assert.ok(body.length > 5_000_000);
  const fields = scanTopLevel(body);
  const cfg = config();
  let best = Infinity;
  let tier = '';
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    tier = classify(extractFeatures(body, fields), cfg).tier;
    best = Math.min(best, performance.now() - t0);
  }
  assert.equal(tier, 'complex');
  assert.ok(best < 5, `took ${best.toFixed(2)} ms`);
  const parse0 = performance.now();
  JSON.parse(body.toString());
  // The comparison that makes the bound meaningful: a full parse is far slower.
  assert.ok(performance.now() - parse0 > best * 2);
});

test('settings: defaults name models the bundled price table prices', async () => {
  const s: SmartSettings = SmartSettingsSchema.parse({});
  const book = createPriceBook(await loadBundledPrices());
  for (const tier of TIERS) {
    assert.equal(s.tiers[tier].provider, 'anthropic');
    assert.notEqual(book.lookup(s.tiers[tier].model), null, s.tiers[tier].model);
  }
  assert.deepEqual([s.tiers.simple.model, s.tiers.moderate.model, s.tiers.complex.model], ['claude-haiku-5-5', 'claude-sonnet-5-5', 'claude-opus-5-5']);
  assert.equal(s.thresholds.background.maxTokens, 1024);
  assert.deepEqual(s.rules, []);
  assert.deepEqual(s.cascades, []);
});

test('settings: bad rules and cascades are rejected, every problem listed', () => {
  const bad = {
    rules: [
      { pattern: '(a+)+$', tier: 'complex' },
      { pattern: '[unclosed', tier: 'simple' },
      { pattern: 'ok', flags: 'g', tier: 'simple' },
      { pattern: 'ok', tier: 'huge' },
    ],
    cascades: [
      { name: 'one', tiers: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
      { name: 'two', tiers: [{ provider: 'a', model: 'x' }, { provider: 'a', model: 'y' }], triggers: ['rate_limit'], errorStatuses: [500] },
      { name: 'two', tiers: [{ provider: 'a', model: 'x' }, { provider: 'a', model: 'y' }], triggers: ['refusal', 'refusal'] },
    ],
  };
  let err: unknown;
  try { parseSmartSettings(bad); } catch (e) { err = e; }
  assert.ok(err instanceof SmartSettingsError);
  const text = err.problems.join('\n');
  assert.match(text, /rules\.0\.pattern: .*nested quantifiers/);
  assert.match(text, /rules\.1\.pattern: not a valid regular expression/);
  assert.match(text, /rules\.2\.pattern: flags may only be i, m, s, u/);
  assert.match(text, /rules\.3\.tier/);
  assert.match(text, /cascades\.0\.tiers/);
  assert.match(text, /cascades\.1\.errorStatuses: errorStatuses needs the error_status trigger/);
  assert.match(text, /cascades\.2\.triggers: a trigger is listed twice/);
  // Cross-item checks run once every item is valid (zod skips them otherwise).
  const pair = [{ provider: 'a', model: 'x' }, { provider: 'a', model: 'y' }];
  assert.throws(() => parseSmartSettings({ cascades: [{ name: 'two', tiers: pair }, { name: 'two', tiers: pair }] }),
    (e: unknown) => e instanceof SmartSettingsError && e.problems[0] === 'cascades.1.name: cascade "two" is defined twice');
  const ok = parseSmartSettings({ cascades: [{ name: 'cheap-first', tiers: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }, { provider: 'anthropic', model: 'claude-sonnet-4-6' }] }] });
  assert.deepEqual(ok.cascades[0]!.triggers, ['rate_limit', 'overloaded']);
});

test('compileClassifierConfig re-checks patterns that skipped the schema', () => {
  assert.throws(
    () => compileClassifierConfig({ thresholds: SmartSettingsSchema.parse({}).thresholds, rules: [{ pattern: '(\\w*)*x', flags: '', tier: 'simple' }] }),
    (e: unknown) => e instanceof SmartSettingsError && /rules\.0\.pattern/.test(e.problems[0]!),
  );
  // A `g` flag that slipped through is dropped: test() must not keep lastIndex across requests.
  const cfg = compileClassifierConfig({ thresholds: SmartSettingsSchema.parse({}).thresholds, rules: [{ pattern: 'quota', flags: '', tier: 'complex' }] });
  assert.equal(cfg.rules[0]!.re.global, false);
  assert.equal(run(fx.quotaProbeRequest(), cfg).tier, 'complex');
  assert.equal(run(fx.quotaProbeRequest(), cfg).tier, 'complex');
});
