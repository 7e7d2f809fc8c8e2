// The routing commands of the `sluice` CLI: `ab report`, `models`, `route test`. All I/O comes
// through the io object; the keychain, dispatcher and clock are injectable for tests.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { openLedger } from '../ledger/index.js';
import { renderTable, useColor, type Column } from '../cli-table.js';
import { formatDuration, formatInt, formatPercent, formatTokens, formatUsd } from '../format.js';
import { openSettings } from '../store/settings.js';
import { createKeychainStore, createProviderKeys, type SecretStore } from '../store/secrets.js';
import { createProviderRegistry } from '../providers/registry.js';
import { createModelCatalog } from '../providers/models.js';
import { abReportFromLedger, type ArmStats } from './ab-report.js';
import { decideRoute } from './rules.js';
import { SCENARIOS, type Scenario } from './schema.js';
import { smartReport, type SmartReport } from './smart-report.js';
import { createPriceBook, loadBundledPrices, parsePriceOverrides } from '../pricing/index.js';

export interface RoutingCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  /** stdout is a terminal: tables may be coloured (never under NO_COLOR). */
  isTTY?: boolean;
  secrets?: () => SecretStore;
  dispatcher?: Dispatcher;
}

export const ROUTING_HELP = `Routing:
  sluice models [--refresh] [--json]       every provider's models (discovered, cached)
  sluice route test <model> [--tool T] [--session ID] [--scenario background|subagent|long_context|thinking] [--json]
                                           which rule, arm and provider chain a request would get
  sluice ab report [--rule NAME] [--since YYYY-MM-DD] [--json]
                                           per-arm requests, error rate, latency p50/p95, cost, output tokens
  sluice smart report [--rule NAME] [--since YYYY-MM-DD] [--json]
                                           per smart rule: requests and cost per tier, and the saving
                                           against sending everything to the top tier
`;

export class RoutingCliUsageError extends Error {}

export function isRoutingCommand(argv: readonly string[]): boolean {
  const [cmd, sub] = argv.filter((a) => !a.startsWith('-'));
  return cmd === 'models' || (cmd === 'route' && sub === 'test') || (cmd === 'ab' && sub === 'report') || (cmd === 'smart' && sub === 'report');
}

/** Tables through the shared CLI table (100 columns, colour on a terminal unless NO_COLOR). */
const table = (columns: Column[], rows: string[][], color = false) => renderTable(columns, rows, { color });
const unprStyle = (c: string) => (c.includes('unpriced') ? 'yellow' as const : null);

const ms = (v: number | null) => (v === null ? '-' : formatDuration(v));
const usd = (v: number | null) => formatUsd(v);

export function formatAbReport(rules: { rule: string; arms: ArmStats[] }[], color = false): string {
  if (rules.length === 0) return 'No A/B requests recorded yet (rules with `arms`).\n';
  const rows = rules.flatMap((r) => r.arms.map((a) => [
    r.rule, a.arm, formatInt(a.requests), formatPercent(a.errorRate), ms(a.latencyP50Ms), ms(a.latencyP95Ms),
    a.costPerRequestUsd === null ? 'unpriced' : usd(a.costPerRequestUsd) + (a.unpricedRequests > 0 ? ` (+${formatInt(a.unpricedRequests)} unpriced)` : ''), formatTokens(Math.round(a.outputTokensPerRequest)), a.servedModels.join(','),
  ]));
  return table([
    { head: 'rule', min: 10 }, { head: 'arm', min: 8 }, { head: 'requests', align: 'right' }, { head: 'errors', align: 'right', drop: 3 },
    { head: 'p50', align: 'right', drop: 2 }, { head: 'p95', align: 'right', drop: 4 }, { head: 'cost/request', align: 'right', style: unprStyle },
    { head: 'output/request', align: 'right', drop: 1 }, { head: 'served', min: 12, drop: 0 },
  ], rows, color);
}

const money = (v: number) => formatUsd(v);

export function formatSmartReport(report: SmartReport, color = false): string {
  if (report.routes.length === 0) return 'No smart-routed requests recorded yet (rules with `tiers` or `cascade`).\n';
  const out: string[] = [];
  for (const r of report.routes) {
    const rows = r.tiers.map((t) => [
      t.tier, formatInt(t.requests), formatPercent(t.share),
      money(t.costUsd) + (t.unpriced > 0 ? ` (+${formatInt(t.unpriced)} unpriced)` : ''),
      money(t.counterfactualUsd), money(t.savingUsd), t.models.join(','),
    ]);
    const tot = r.total;
    rows.push(['total', formatInt(tot.requests), formatPercent(1), money(tot.costUsd) + (tot.unpriced > 0 ? ` (+${formatInt(tot.unpriced)} unpriced)` : ''), money(tot.counterfactualUsd), money(tot.savingUsd), '']);
    out.push(`rule ${r.route ?? '(none)'}: top tier ${r.topModel}\n`);
    out.push(table([
      { head: 'tier', min: 8 }, { head: 'requests', align: 'right' }, { head: 'share', align: 'right', drop: 2 },
      { head: 'cost', align: 'right', style: unprStyle }, { head: 'all on top', align: 'right', drop: 3 }, { head: 'saving', align: 'right' },
      { head: 'served', min: 12, drop: 1 },
    ], rows, color));
    if (tot.counterfactualUnpriced > 0) out.push(`  ${tot.counterfactualUnpriced} request(s) could not be repriced at ${r.topModel} and are left out of the saving\n`);
    out.push('\n');
  }
  return out.join('');
}

/** Runs one routing command; returns the exit code. */
export async function runRoutingCli(argv: string[], io: RoutingCliIo, dataDir: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        'data-dir': { type: 'string' }, json: { type: 'boolean' }, refresh: { type: 'boolean' },
        rule: { type: 'string' }, since: { type: 'string' }, tool: { type: 'string' }, session: { type: 'string' },
        scenario: { type: 'string', multiple: true },
      },
    });
  } catch (err) {
    io.stderr(`sluice: ${(err as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [cmd, sub, arg] = positionals;
  try {
    if (cmd === 'ab') {
      if (values.since !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.since)) throw new RoutingCliUsageError(`--since takes a date as YYYY-MM-DD, got "${values.since}"`);
      const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
      try {
        const report = abReportFromLedger(ledger, { ...(values.rule ? { rule: values.rule } : {}), ...(values.since ? { since: values.since } : {}) });
        io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatAbReport(report.rules, useColor(io)));
      } finally {
        ledger.close();
      }
      return 0;
    }
    const settings = await openSettings(dataDir);
    const s = settings.get();
    if (cmd === 'smart') {
      if (values.since !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.since)) throw new RoutingCliUsageError(`--since takes a date as YYYY-MM-DD, got "${values.since}"`);
      const book = createPriceBook(await loadBundledPrices(), parsePriceOverrides(s.pricing.overrides));
      const ledger = openLedger(join(dataDir, 'ledger.sqlite'));
      try {
        const report = smartReport(ledger, book, s.routing, { ...(values.rule ? { rule: values.rule } : {}), ...(values.since ? { since: values.since } : {}) });
        // bigint pico sums are written as decimal strings in JSON.
        io.stdout(values.json ? `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n` : formatSmartReport(report, useColor(io)));
      } finally {
        ledger.close();
      }
      return 0;
    }
    if (cmd === 'route') {
      if (!arg) throw new RoutingCliUsageError('expected `sluice route test <model>`');
      const scenarios = (values.scenario ?? []) as string[];
      for (const sc of scenarios) if (!SCENARIOS.includes(sc as Scenario)) throw new RoutingCliUsageError(`--scenario takes one of ${SCENARIOS.join(', ')}`);
      // A stated scenario is taken as true; the others follow from the model as they would live.
      const d = decideRoute(s.routing, s.providers, {
        model: arg,
        tool: values.tool ?? null,
        subagent: scenarios.includes('subagent'),
        bodyBytes: scenarios.includes('long_context') ? (s.routing.longContextTokens + 1) * 4 : 0,
        thinking: () => scenarios.includes('thinking'),
        stickyKey: values.session ?? (values.tool ? `tool:${values.tool}` : null),
      }, 'sluice-route-test');
      if (values.json) io.stdout(`${JSON.stringify(d, null, 2)}\n`);
      else if (!d) io.stdout(`${arg}: no rule matches; first-party anthropic, request forwarded unchanged\n`);
      else {
        io.stdout(`${arg}: rule ${d.rule}${d.arm ? `, arm ${d.arm}` : ''}\n`);
        d.chain.forEach((l, i) => io.stdout(`  ${i === 0 ? 'target  ' : 'fallback'} ${l.provider}${l.model ? ` model=${l.model}` : ' (model kept)'}\n`));
        if (!values.session && d.arm) io.stdout('  (the arm depends on the session; pass --session ID to see a given session\'s arm)\n');
      }
      return 0;
    }
    // models
    const env = io.env;
    const secrets = io.secrets ? io.secrets() : createKeychainStore();
    const keys = createProviderKeys({ secrets, env });
    const registry = createProviderRegistry({
      providers: () => s.providers,
      baseUrlOf: (name, cfg) => new URL(name === 'anthropic' && env.SLUICE_ANTHROPIC_BASE_URL ? env.SLUICE_ANTHROPIC_BASE_URL : cfg.baseUrl),
    });
    const dispatcher = io.dispatcher ?? new Agent({ connect: { timeout: 5000 } });
    try {
      const catalog = createModelCatalog({ registry, keys, dispatcher, ttlMs: () => s.routing.modelsCacheMs, cacheFile: join(dataDir, 'models-cache.json'), timeoutMs: 10_000 });
      const lists = await Promise.all(registry.list().map((spec) => catalog.forProvider(spec, { refresh: values.refresh === true })));
      if (values.json) {
        io.stdout(`${JSON.stringify(lists, null, 2)}\n`);
        return 0;
      }
      for (const l of lists) {
        const spec = registry.get(l.provider)!;
        io.stdout(`${l.provider} (${spec.type}, ${spec.baseUrl.href})${l.error ? `  [discovery failed: ${l.error}]` : ''}\n`);
        for (const m of l.models) io.stdout(`  ${l.provider === 'anthropic' ? m.id : `${l.provider}/${m.id}`}\n`);
        if (l.models.length === 0) io.stdout('  (no models known)\n');
      }
      return 0;
    } finally {
      if (!io.dispatcher) await (dispatcher as Agent).close();
    }
  } catch (err) {
    if (err instanceof RoutingCliUsageError) {
      io.stderr(`sluice: ${err.message}\nRun \`sluice --help\` for usage.\n`);
      return 2;
    }
    throw err;
  }
}
