// /admin/api/control/*: read and change budgets, token policies, guardrails and capture; read
// alerts, the audit log, status and cache savings. Every route passes the injected authorize()
// first; every change is validated by the control schema and written to the audit log.
// Imports express types, this folder and the ledger/pricing types; never gateway.ts code.
import type { Express, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { Ledger } from '../ledger/index.js';
import type { PriceBook } from '../pricing/index.js';
import { adminGuard } from './admin-guard.js';
import { cacheSavings } from './estimate.js';
import { compileGuard, scanPlainText, REDACT_ALL } from './guardrails.js';
import {
  BudgetSettingsSchema, CaptureSettingsSchema, ControlSettingsError, GuardPolicySchema, parseControlSettings, TokenPolicySchema,
  type ControlSettings,
} from './schema.js';
import type { ChangeSource, ControlStore } from './store.js';

export interface ControlRouteDeps {
  authorize(req: IncomingMessage): boolean | Promise<boolean>;
  config(): ControlSettings;
  saveConfig(next: ControlSettings): Promise<void>;
  store: ControlStore;
  status(): Promise<unknown>;
  now(): number;
  ledger: Ledger | null;
  prices(): Promise<PriceBook>;
  sweepCapture(): Promise<unknown>;
  /** Subscription window state per account (unified-limits.ts's document). */
  usageLimits?(): unknown;
  /** Who is changing things: the desktop window sends `x-sluice-source: app`. */
  sourceOf?(req: IncomingMessage): ChangeSource;
}

const BASE = '/admin/api/control';
const MAX_JSON = 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_JSON) throw new InvalidRequestError('The request body is larger than 1 MB.');
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON.');
  }
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new InvalidRequestError(`Invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}.`);
  return r.data;
}

/** A PUT body is a partial object merged over the current values (zod fills defaults into partials, so no .partial()). */
function objectBody(raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidRequestError('The request body must be a JSON object.');
  return raw as Record<string, unknown>;
}

function send(res: Response, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function query(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://localhost').searchParams;
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function mountControlRoutes(app: Express, deps: ControlRouteDeps): void {
  const sourceOf = deps.sourceOf ?? ((req: IncomingMessage) => (req.headers['x-sluice-source'] === 'app' ? 'app' : 'admin'));
  const guard = adminGuard(deps.authorize);
  /** Validates the edited section, saves it, and writes one audit row. */
  const change = async (req: Request, action: string, target: string, edit: (c: ControlSettings) => { before: unknown; after: unknown }) => {
    const draft = structuredClone(deps.config());
    const { before, after } = edit(draft);
    let next: ControlSettings;
    try {
      next = parseControlSettings(draft);
    } catch (err) {
      if (err instanceof ControlSettingsError) throw new InvalidRequestError(err.message.replace(/\n\s*/g, ' '));
      throw err;
    }
    await deps.saveConfig(next);
    deps.store.audit({ ts: deps.now(), source: sourceOf(req), action, target, detail: { before: before ?? null, after: after ?? null } });
    return next;
  };

  app.get(`${BASE}/status`, guard(async (_req, res) => send(res, await deps.status())));
  app.get(`${BASE}/usage-limits`, guard((_req, res) => send(res, deps.usageLimits?.() ?? { schema: 'sluice.usage-limits/1', accounts: [] })));
  app.get(`${BASE}/config`, guard((_req, res) => send(res, deps.config())));

  app.get(`${BASE}/budgets`, guard((_req, res) => send(res, deps.config().budgets)));
  app.put(`${BASE}/budgets`, guard(async (req, res) => {
    const raw = objectBody(await readJson(req));
    const merged = parseWith(BudgetSettingsSchema, { ...deps.config().budgets, ...raw }, 'budgets');
    const next = await change(req, 'budget.update', 'budgets', (c) => {
      const before = { ...c.budgets };
      c.budgets = merged;
      return { before, after: c.budgets };
    });
    send(res, next.budgets);
  }));

  app.get(`${BASE}/policies`, guard((_req, res) => send(res, deps.config().tokens)));
  app.put(`${BASE}/policies/:name`, guard(async (req, res) => {
    const name = String(req.params.name);
    if (!TOKEN_NAME.test(name)) throw new InvalidRequestError('A policy is named after its token: 1-64 letters, digits, ".", "_" or "-".');
    const policy = parseWith(TokenPolicySchema, await readJson(req), 'token policy');
    const next = await change(req, 'policy.update', `token:${name}`, (c) => {
      const before = c.tokens[name] ?? null;
      c.tokens[name] = policy;
      return { before, after: policy };
    });
    send(res, next.tokens[name]);
  }));
  app.delete(`${BASE}/policies/:name`, guard(async (req, res) => {
    const name = String(req.params.name);
    if (!deps.config().tokens[name]) throw new NotFoundError('DELETE', req.originalUrl);
    await change(req, 'policy.delete', `token:${name}`, (c) => {
      const before = c.tokens[name];
      delete c.tokens[name];
      return { before, after: null };
    });
    send(res, { deleted: name });
  }));

  app.get(`${BASE}/guardrails`, guard((_req, res) => send(res, deps.config().guardrails)));
  app.put(`${BASE}/guardrails`, guard(async (req, res) => {
    const body = parseWith(z.object({ policies: z.array(GuardPolicySchema) }).strict(), await readJson(req), 'guardrails');
    const next = await change(req, 'guardrails.update', 'guardrails', (c) => {
      const before = c.guardrails;
      c.guardrails = body;
      return { before, after: body };
    });
    send(res, next.guardrails);
  }));
  app.post(`${BASE}/guardrails/test`, guard(async (req, res) => {
    const body = parseWith(z.object({ text: z.string().max(MAX_JSON), policy: z.string().optional() }).strict(), await readJson(req), 'guardrail test');
    let g = REDACT_ALL;
    if (body.policy !== undefined) {
      const p = deps.config().guardrails.policies.find((x) => x.name === body.policy);
      if (!p) throw new InvalidRequestError(`No guardrail policy named ${JSON.stringify(body.policy.slice(0, 64))}.`);
      g = compileGuard(p) ?? { ...REDACT_ALL, detectors: [] };
    }
    // Positions only: the matched text is never sent back.
    send(res, { findings: scanPlainText(body.text, g) });
  }));

  app.get(`${BASE}/capture`, guard(async (_req, res) => send(res, (await deps.status() as { capture: unknown }).capture)));
  app.put(`${BASE}/capture`, guard(async (req, res) => {
    const raw = objectBody(await readJson(req));
    const merged = parseWith(CaptureSettingsSchema, { ...deps.config().capture, ...raw }, 'capture settings');
    const action = raw.enabled === true ? 'capture.on' : raw.enabled === false ? 'capture.off' : 'capture.update';
    const next = await change(req, action, 'capture', (c) => {
      const before = { ...c.capture };
      c.capture = merged;
      return { before, after: c.capture };
    });
    await deps.sweepCapture();
    send(res, next.capture);
  }));

  app.get(`${BASE}/alerts`, guard((req, res) => send(res, { alerts: deps.store.listAlerts({ limit: Number(query(req).get('limit') ?? 100) || 100 }) })));
  app.get(`${BASE}/audit`, guard((req, res) => send(res, { entries: deps.store.listAudit({ limit: Number(query(req).get('limit') ?? 100) || 100 }) })));

  app.get(`${BASE}/cache-savings`, guard(async (req, res) => {
    const q = query(req);
    const bound = (k: string) => { const v = q.get(k); return v === null ? undefined : /^\d+$/.test(v) ? Number(v) : v; };
    if (!deps.ledger) { send(res, { rows: [], totalUsd: 0, unpricedModels: [], metering: false }); return; }
    const rows = deps.ledger.report({ by: 'model', since: bound('since'), until: bound('until') });
    const savings = cacheSavings(await deps.prices(), rows.map((r) => ({ model: r.key, cacheReadTokens: r.cacheReadTokens })));
    send(res, { ...savings, metering: true });
  }));
}
