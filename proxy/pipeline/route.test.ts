// Tests for the route stage: the three body fields read without a parse, the chat-path
// refusals, and the plan (local answer, targets, per-target request, route header).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoute, readRequestInfo, type RouteDeps } from './route.js';
import { InvalidRequestError, ProviderKeyMissingError } from '../errors.js';
import type { ProxyRequest } from './types.js';
import type { Target } from './upstream.js';

const body = (o: unknown) => Buffer.from(JSON.stringify(o));

test('readRequestInfo reads model, stream and metadata.user_id of a Messages POST only', () => {
  const b = body({ model: 'claude-x', stream: true, metadata: { user_id: 'u1' }, messages: [] });
  assert.deepEqual(readRequestInfo('POST', '/v1/messages', {}, b), { model: 'claude-x', stream: true, metadataUserId: 'u1' });
  assert.deepEqual(readRequestInfo('POST', '/v1/other', {}, b), { model: null, stream: false, metadataUserId: null });
  assert.deepEqual(readRequestInfo('POST', '/v1/messages', { 'content-encoding': 'gzip' }, b), { model: null, stream: false, metadataUserId: null });
  assert.deepEqual(readRequestInfo('GET', '/v1/models', {}, null), { model: null, stream: false, metadataUserId: null });
  assert.throws(() => readRequestInfo('POST', '/v1/messages', {}, Buffer.from('[1]')), InvalidRequestError);
});

test('readRequestInfo refuses a chat request that is not an uncompressed JSON POST with a model', () => {
  assert.throws(() => readRequestInfo('GET', '/v1/chat/completions', {}, null), /takes a POST/);
  assert.throws(() => readRequestInfo('POST', '/v1/chat/completions', { 'content-encoding': 'gzip' }, body({ model: 'm' })), /takes a POST/);
  assert.throws(() => readRequestInfo('POST', '/v1/chat/completions', {}, body({ messages: [] })), /model: a string is required/);
  assert.equal(readRequestInfo('POST', '/v1/chat/completions', {}, body({ model: 'm' })).model, 'm');
});

const target = { name: 'anthropic', model: null, fallback: false } as unknown as Target;
const preq = (over: Partial<ProxyRequest> = {}): ProxyRequest => ({
  id: 'r1', tsStart: 0, method: 'POST', url: '/v1/messages', pathname: '/v1/messages', headers: {},
  caller: { kind: 'passthrough', credential: 'api-key' }, body: body({ model: 'm' }), info: { model: 'm', stream: false, metadataUserId: null }, notes: {},
  ...over,
});

function deps(over: Partial<RouteDeps['router']> = {}, targetsFor: RouteDeps['targetsFor'] = async () => [target]): RouteDeps & { planned: unknown[] } {
  const planned: unknown[] = [];
  return {
    planned,
    router: {
      decide: () => null,
      planner: (req) => { planned.push(req); return () => ({ path: '/x', body: null, rawHeaders: [] }); },
      modelsPlan: async () => null,
      ...over,
    },
    targetsFor,
  };
}

test('createRoute: no rule is the targets as they are, no planner, no route header', async () => {
  const d = deps();
  const plan = await createRoute(d)(preq(), []);
  assert.equal(plan.kind, 'upstream');
  assert.ok(plan.kind === 'upstream' && plan.forTarget === undefined && plan.routeHeader === null && plan.targets[0] === target);
  assert.equal(d.planned.length, 0);
});

test('createRoute: a matched rule plans per target and names the rule and arm', async () => {
  const d = deps({ decide: () => ({ rule: 'cheap', arm: 'b', chain: [{ provider: 'anthropic', model: 'h' }] }) as never });
  const plan = await createRoute(d)(preq(), []);
  assert.ok(plan.kind === 'upstream' && typeof plan.forTarget === 'function');
  assert.equal(plan.kind === 'upstream' && plan.routeHeader, 'cheap; arm=b');
  assert.equal(d.planned.length, 1);
});

test('createRoute: models requests answered locally, and the merge fallback without a key', async () => {
  const get = preq({ method: 'GET', url: '/v1/models', pathname: '/v1/models', body: null });
  const local = await createRoute(deps({ modelsPlan: async () => ({ kind: 'local', status: 200, body: '{"data":[]}' }) }))(get, []);
  assert.deepEqual(local, { kind: 'local', status: 200, body: '{"data":[]}' });
  const merge = deps({ modelsPlan: async () => ({ kind: 'merge', forTarget: () => ({ path: '/', body: null, rawHeaders: [] }), fallback: '{"fb":1}' }) },
    async () => { throw new ProviderKeyMissingError('anthropic'); });
  assert.deepEqual(await createRoute(merge)(get, []), { kind: 'local', status: 200, body: '{"fb":1}' });
  await assert.rejects(createRoute(deps({}, async () => { throw new ProviderKeyMissingError('anthropic'); }))(preq(), []), ProviderKeyMissingError);
});
