// First stage for every request: refuse what a browser page or a DNS-rebinding attack could
// send. Pure functions over header values; imports only the error taxonomy.
import { ForbiddenHostError, ForbiddenOriginError } from '../errors.js';

/** `Host` must name loopback: localhost, 127.0.0.0/8 or [::1], with any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  let name = host.trim().toLowerCase();
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0) return false;
    const rest = name.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return false;
    name = name.slice(1, close);
    return name === '::1' || name === '0:0:0:0:0:0:0:1';
  }
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(name);
  if (!m) return false;
  const h = m[1]!.replace(/\.$/, '');
  if (h === 'localhost') return true;
  return /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(h) && h.split('.').every((o) => Number(o) <= 255);
}

export interface GuardPolicy {
  allowedOrigins: readonly string[];
}

/**
 * Throws when the request must not be served: a non-loopback Host (DNS rebinding), or a
 * browser request (`Origin`, or `Sec-Fetch-Site: cross-site`) from an origin not allowed in
 * settings. Claude Code, the SDKs and curl send no Origin, so they pass.
 */
export function checkRequestOrigin(headers: { host?: string; origin?: string; 'sec-fetch-site'?: string }, policy: GuardPolicy): void {
  if (!isLoopbackHost(headers.host)) throw new ForbiddenHostError(headers.host ?? '');
  const origin = headers.origin;
  if (origin !== undefined) {
    if (!policy.allowedOrigins.includes(origin)) throw new ForbiddenOriginError(origin);
    return;
  }
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new ForbiddenOriginError(`(${site} request without Origin)`);
}
