// The one error this folder adds to the taxonomy: an OpenAI-compatible upstream answered with
// something that is not a valid chat completion (bad JSON, no choices, an error chunk mid-stream).
// Imports only ../../errors.js.
import { GatewayError } from '../../errors.js';

/**
 * 502 and retryable: a malformed or failed upstream answer is the upstream's fault, and Claude
 * Code retries 5xx, which is what a user wants when a provider hiccups mid-stream.
 */
export class UpstreamResponseError extends GatewayError {
  constructor(message: string, cause?: unknown) {
    super('GATEWAY_UPSTREAM_BAD_RESPONSE', 502, 'gateway_upstream_error', message, { retryable: true, cause });
  }
}
