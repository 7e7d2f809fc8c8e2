// The merged model catalogue `GET /v1/models` answers with once other providers or aliases
// exist: Anthropic's own list plus `<provider>/<model>` ids and rule aliases, in the list shape
// each client family reads. Pure functions over plain data, plus one response translator.
import type { ForwardHooks, ResponseSink } from '../pipeline/forward.js';
import type { ProviderModels } from '../providers/models.js';
import { anthropicErrorToChat } from '../providers/openai/index.js';
import { CLAUDE_CODE_PREFIX } from './rules.js';
import type { RoutingSettings } from './schema.js';

export type CatalogShape = 'anthropic' | 'openai';

export interface CatalogEntry {
  id: string;
  displayName: string;
  /** Seconds since the epoch (0 when unknown). */
  created: number;
  ownedBy: string;
}

type Headers = Record<string, string | string[] | undefined>;

function first(h: Headers, name: string): string {
  const v = h[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/**
 * Anthropic's shape by default and for every client that sends `anthropic-version` (the SDKs,
 * Claude Code); OpenAI's `{object:'list'}` for OpenAI-family clients, which send none.
 */
export function catalogShapeFor(headers: Headers): CatalogShape {
  if (first(headers, 'anthropic-version') !== '') return 'anthropic';
  const ua = first(headers, 'user-agent');
  return /\bopenai\b|cursor|cline|continue|litellm/i.test(ua) || first(headers, 'x-stainless-package-version') !== '' ? 'openai' : 'anthropic';
}

/** Claude Code and its editor extensions (their model discovery keeps only ids naming claude/anthropic). */
export function isClaudeCode(headers: Headers): boolean {
  return /^claude-cli\//.test(first(headers, 'user-agent'));
}

/** Whether /v1/models must be merged: any provider beyond first-party Anthropic, or an alias rule. */
export function catalogueActive(providers: Readonly<Record<string, unknown>>, routing: Pick<RoutingSettings, 'rules'>): boolean {
  return Object.keys(providers).some((p) => p !== 'anthropic') || routing.rules.some((r) => r.match.alias !== undefined);
}

/**
 * The ids Sluice adds. For Claude Code an id naming neither "claude" nor "anthropic" is offered
 * as `claude-via/<provider>/<model>` so its discovery filter keeps it; routing strips the prefix.
 */
export function extraEntries(lists: readonly ProviderModels[], routing: Pick<RoutingSettings, 'rules'>, forClaudeCode: boolean): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  const seen = new Set<string>();
  const add = (e: CatalogEntry) => {
    const visible = forClaudeCode && !/claude|anthropic/i.test(e.id) ? { ...e, id: `${CLAUDE_CODE_PREFIX}${e.id}` } : e;
    if (seen.has(visible.id)) return;
    seen.add(visible.id);
    out.push(visible);
  };
  for (const r of routing.rules) {
    if (r.match.alias === undefined) continue;
    const t = r.target ?? r.arms?.[0]?.target;
    const where = r.arms ? `A/B: ${r.arms.map((a) => a.name).join(' / ')}` : t ? `${t.provider}${t.model ? `/${t.model}` : ''}` : '';
    add({ id: r.match.alias, displayName: `${r.match.alias} (Sluice route ${r.name} -> ${where})`, created: 0, ownedBy: 'sluice' });
  }
  for (const l of lists) {
    for (const m of l.models) {
      add({ id: `${l.provider}/${m.id}`, displayName: `${m.displayName ?? m.id} (via ${l.provider})`, created: m.created ?? 0, ownedBy: m.ownedBy ?? l.provider });
    }
  }
  return out;
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

export function anthropicModel(e: CatalogEntry): Record<string, unknown> {
  return { type: 'model', id: e.id, display_name: e.displayName, created_at: iso(e.created) };
}

export function openaiModel(e: CatalogEntry): Record<string, unknown> {
  return { id: e.id, object: 'model', created: e.created, owned_by: e.ownedBy };
}

function entryFromAnthropic(m: Record<string, unknown>): CatalogEntry {
  const t = typeof m.created_at === 'string' ? Date.parse(m.created_at) : NaN;
  return { id: String(m.id), displayName: typeof m.display_name === 'string' ? m.display_name : String(m.id), created: Number.isNaN(t) ? 0 : Math.floor(t / 1000), ownedBy: 'anthropic' };
}

/** A list answer built from entries alone (no Anthropic list: no key, or the id is ours). */
export function listBody(entries: readonly CatalogEntry[], shape: CatalogShape): string {
  if (shape === 'openai') return JSON.stringify({ object: 'list', data: entries.map(openaiModel) });
  return JSON.stringify({ data: entries.map(anthropicModel), has_more: false, first_id: entries[0]?.id ?? null, last_id: entries.at(-1)?.id ?? null });
}

/**
 * Merges Anthropic's list page with `extras` (appended to the last page only, so paging by
 * `after_id` still walks Anthropic's ids), in the client's shape. Errors keep their status; a
 * chat client gets them in OpenAI's error shape.
 */
export function mergeModelList(status: number, text: string, extras: readonly CatalogEntry[], shape: CatalogShape): string {
  if (status < 200 || status >= 300) return shape === 'openai' ? anthropicErrorToChat(status, text) : text;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  const data = Array.isArray(body.data) ? body.data as Record<string, unknown>[] : [];
  const lastPage = body.has_more !== true;
  if (shape === 'openai') {
    return JSON.stringify({ object: 'list', data: [...data.map((m) => openaiModel(entryFromAnthropic(m))), ...(lastPage ? extras.map(openaiModel) : [])] });
  }
  if (!lastPage || extras.length === 0) return text;
  const merged = [...data, ...extras.map(anthropicModel)];
  return JSON.stringify({ ...body, data: merged, first_id: merged[0]?.id ?? null, last_id: merged.at(-1)?.id ?? null });
}

type MeterHooks = Pick<ForwardHooks, 'onStart' | 'onChunk'>;

/** The response translator for a merged /v1/models: buffers Anthropic's page, answers the merged list. */
export function modelsMergeWrapper(extras: readonly CatalogEntry[], shape: CatalogShape): (sink: ResponseSink, meter: MeterHooks) => { sink: ResponseSink; hooks: MeterHooks } {
  return (out, meter) => {
    let status = 0;
    let headers: Record<string, string | string[]> = {};
    const held: Buffer[] = [];
    const sink: ResponseSink = {
      start(s, h) { status = s; headers = h; },
      write(chunk) { held.push(chunk); return true; },
      onDrain: (resume) => out.onDrain(resume),
      end() {
        const body = Buffer.from(mergeModelList(status, Buffer.concat(held).toString('utf8'), extras, shape));
        const h: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(headers)) if (k !== 'content-length' && k !== 'content-encoding' && k !== 'transfer-encoding') h[k] = v;
        h['content-type'] = 'application/json';
        h['content-length'] = String(body.length);
        out.start(status, h);
        out.write(body);
        out.end();
      },
      fail: (err) => out.fail(err),
    };
    return { sink, hooks: meter };
  };
}
