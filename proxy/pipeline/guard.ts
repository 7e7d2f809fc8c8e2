// The guard: what refuses a request. First, for every request, what a browser page or a
// DNS-rebinding attack could send (pure functions over header values); then, after auth, the
// extension stages (budgets, guardrails, policies) in order, with their response hooks.
import { ForbiddenHostError, ForbiddenOriginError } from '../errors.js';
import type { ResponseSink } from './dispatch.js';
import type { Finish, ProxyRequest, ResponseTap, Stage } from './types.js';

// Verdicts on Host values seen, since every request of a client carries the same one (two
// regexes and a split each time were ~1 % of busy time at 2 KB). Bounded: odd values just
// reset it.
const hostVerdicts = new Map<string, boolean>();

/** `Host` must name loopback: localhost, 127.0.0.0/8 or [::1], with any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  let v = hostVerdicts.get(host);
  if (v === undefined) {
    v = judgeHost(host);
    if (hostVerdicts.size >= 64) hostVerdicts.clear();
    hostVerdicts.set(host, v);
  }
  return v;
}

function judgeHost(host: string): boolean {
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

export interface GuardDeps {
  /** Extension stages, in order (control policies, guardrails, capture). */
  stages: readonly Stage[];
  /** A finish or response hook threw: logged, never fails the request. */
  warn(msg: string): void;
}

export interface Guard {
  /**
   * Runs every stage's onRequest in order; a stage refuses by throwing (the finish hooks
   * collected so far then run with null). Resolves to the request's finish: runs each
   * stage's finish hook once, whatever calls it first. Synchronous when no stage is async.
   */
  check(preq: ProxyRequest): Finish | Promise<Finish>;
  /** The client sink, wrapped so stages with onResponse see the delivered response. */
  tap(sink: ResponseSink, preq: ProxyRequest): ResponseSink;
}

const NOOP_FINISH: Finish = () => {};

export function createGuard(deps: GuardDeps): Guard {
  const stages = deps.stages;
  const hooked = stages.filter((s) => s.onResponse);
  const warn = deps.warn;
  const finisher = (hooks: Finish[]): Finish => {
    if (hooks.length === 0) return NOOP_FINISH;
    let finished = false;
    return (row) => {
      if (finished) return;
      finished = true;
      for (const f of hooks) {
        try { f(row); } catch (err) { warn(`a stage's finish hook failed: ${(err as Error).message}`); }
      }
    };
  };
  const runFrom = async (preq: ProxyRequest, i: number, hooks: Finish[], pending: Promise<unknown>): Promise<Finish> => {
    try {
      let done = await pending;
      if (typeof done === 'function') hooks.push(done as Finish);
      for (let j = i + 1; j < stages.length; j++) {
        done = await stages[j]!.onRequest(preq);
        if (typeof done === 'function') hooks.push(done as Finish);
      }
    } catch (err) {
      finisher(hooks)(null);
      throw err;
    }
    return finisher(hooks);
  };
  return {
    check(preq) {
      if (stages.length === 0) return NOOP_FINISH;
      const hooks: Finish[] = [];
      for (let i = 0; i < stages.length; i++) {
        let done;
        try {
          done = stages[i]!.onRequest(preq);
        } catch (err) {
          finisher(hooks)(null);
          throw err;
        }
        if (done instanceof Promise) return runFrom(preq, i, hooks, done);
        if (typeof done === 'function') hooks.push(done);
      }
      return finisher(hooks);
    },
    tap(sink, preq) {
      if (hooked.length === 0) return sink;
      let taps: ResponseTap[] = [];
      const safe = (f: () => void) => { try { f(); } catch (err) { warn(`a response hook failed: ${(err as Error).message}`); } };
      return {
        ...sink,
        start(status, headers) {
          const h = { ...headers };
          taps = [];
          for (const s of hooked) safe(() => { const t = s.onResponse!(preq, status, h); if (t) taps.push(t); });
          sink.start(status, h);
        },
        write(chunk) {
          const more = sink.write(chunk);
          for (const t of taps) safe(() => t.chunk(chunk));
          return more;
        },
        end() {
          sink.end();
          for (const t of taps) safe(() => t.end());
        },
        fail(err) {
          sink.fail(err);
          for (const t of taps) safe(() => t.end());
        },
      };
    },
  };
}
