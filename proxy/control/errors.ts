// The control plane's refusals: policy, budget, rate limit, guardrail and admin auth, each a
// GatewayError with a stable code. Imports only the base class from proxy/errors.ts.
import { GatewayError } from '../errors.js';

/**
 * A tool token asked for something its policy does not allow (model, expiry). 403 is not
 * retried by Claude Code or the SDKs, so the message is shown at once.
 */
export class PolicyDeniedError extends GatewayError {
  readonly rule: string;
  constructor(rule: string, message: string) {
    super('GATEWAY_POLICY_DENIED', 403, 'gateway_policy_denied', message);
    this.rule = rule;
  }
}

/**
 * A USD budget would be exceeded: 429 with `error.type: billing_error` and `x-should-retry: false`,
 * the shape Claude Code (>= 2.1.225) shows natively for a gateway's spend cap ("The user's own
 * cap on your gateway ... is reached"); the SDKs read x-should-retry and do not retry into the
 * block, so the turn stops at once and prints the message (period, reset, how to raise it).
 * `retry-after` is the seconds until the period resets (none for a budget without a reset).
 * The one error type outside `gateway_*`: a client reads it. Headers come from the caller
 * (budgetRefusalHeaders in unified-limits.ts), with Claude Code's unified-limit headers on
 * API-key traffic only.
 */
export class BudgetExceededError extends GatewayError {
  readonly budget: string;
  constructor(budget: string, message: string, headers: Record<string, string> = {}) {
    super('GATEWAY_BUDGET_EXCEEDED', 429, 'billing_error', message, { headers });
    this.budget = budget;
  }
}

/** A per-token rate limit: 429 with retry-after, so clients wait and retry on their own. */
export class RateLimitedError extends GatewayError {
  readonly limit: string;
  constructor(limit: string, retryAfterSeconds: number, message: string) {
    super('GATEWAY_RATE_LIMITED', 429, 'gateway_rate_limited', message, {
      retryable: true,
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
    this.limit = limit;
  }
}

/**
 * A guardrail set to `block` matched. 400: the request as written must not leave the machine,
 * and retrying it unchanged cannot help. The message names the detector and where, never the value.
 */
export class GuardrailBlockedError extends GatewayError {
  readonly detectors: string[];
  constructor(detectors: string[], message: string) {
    super('GATEWAY_GUARDRAIL_BLOCKED', 400, 'gateway_guardrail_blocked', message);
    this.detectors = detectors;
  }
}

/** The admin API's `authorize(req)` said no. */
export class AdminUnauthorizedError extends GatewayError {
  constructor() {
    super('GATEWAY_ADMIN_UNAUTHORIZED', 401, 'gateway_authentication_error',
      'The control API needs the admin credential (see the dashboard\'s sign-in).');
  }
}
