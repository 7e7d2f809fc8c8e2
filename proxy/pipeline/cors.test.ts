import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedRequestHeaders, CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS } from './cors.js';

test('a preflight allows the Anthropic headers, plus valid names the page asked for', () => {
  assert.equal(allowedRequestHeaders(undefined), CORS_ALLOW_HEADERS.join(', '));
  assert.equal(allowedRequestHeaders('X-Stainless-OS, anthropic-version,,x-api-key'), `${CORS_ALLOW_HEADERS.join(', ')}, x-stainless-os`);
  // Not a field name: left out rather than echoed into a response header.
  assert.equal(allowedRequestHeaders('bad name, x\r\ny, ok-one'), `${CORS_ALLOW_HEADERS.join(', ')}, ok-one`);
});

test('responses expose the request id and every rate-limit header', () => {
  const exposed = CORS_EXPOSE_HEADERS.split(', ');
  for (const h of ['request-id', 'retry-after', 'anthropic-ratelimit-requests-limit', 'anthropic-ratelimit-output-tokens-reset']) assert.ok(exposed.includes(h), h);
});
