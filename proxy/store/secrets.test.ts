// Tests for provider key lookup: keychain accounts that hold other secrets (the team database
// password, the Anthropic Admin key, observe's exporter and webhook secrets, tool tokens and the
// values a tool config held before Sluice) are never a provider's key, whatever a provider is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemorySecretStore, createProviderKeys } from './secrets.js';

test('accounts kept for other secrets are no provider\'s key, in the pool or resolved', async () => {
  const secrets = createMemorySecretStore();
  const other = {
    'team:postgres': 'pg-password-1', 'anthropic-admin': 'sk-ant-admin01-x', 'observe:otlp': 'otlp-secret',
    'observe:webhook:w1': 'whsec', 'tool-token:claude-code': 'sk-sluice-tok', 'tool-undo:claude-code:abc:env.ANTHROPIC_API_KEY': 'sk-ant-api03-prior',
  };
  for (const [a, v] of Object.entries(other)) await secrets.set(a, v);
  await secrets.set('openai', 'sk-openai-1');
  const keys = createProviderKeys({ secrets, env: {} });
  for (const provider of ['team', 'anthropic-admin', 'observe', 'tool-token', 'tool-undo']) {
    assert.deepEqual(await keys.pool(provider), [], provider);
    assert.equal(await keys.resolve(provider), null, provider);
  }
  assert.deepEqual((await keys.pool('openai')).map((k) => k.key), ['sk-openai-1']);
  assert.equal((await keys.resolve('openai'))?.key, 'sk-openai-1');
});
