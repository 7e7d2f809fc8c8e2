// Pure: the tray's state, icon, tooltip and menu as plain data, from what the app knows about the
// gateway. Imports types only; never electron (tray-app.ts turns this into a native menu).
import type { AlertEvent } from '../proxy/events.js';
import type { ToolId, ToolState } from '../proxy/tools/index.js';

export type TrayState = 'on' | 'off' | 'degraded' | 'error';
export const TRAY_STATES: readonly TrayState[] = ['on', 'off', 'degraded', 'error'];

export interface UpstreamHealth {
  ok: boolean;
  status: number | null;
  error: string | null;
}

export interface StatusInput {
  /** The user's choice (the proxy toggle). */
  enabled: boolean;
  /** A gateway is listening. */
  running: boolean;
  /** Why the last start failed; cleared by a successful start. */
  startError: string | null;
  breakerOpen: boolean;
  lastUpstream: UpstreamHealth | null;
  /** The usage ledger's storage state (proxy/ledger LedgerStorageState); absent or null: unknown. */
  ledger?: LedgerHealth | null;
}

/** Whether the usage ledger can write; rows wait in memory (`pending`) while it cannot. */
export interface LedgerHealth {
  ok: boolean;
  pending: number;
  /** Rows lost since the gateway started: the in-memory spool overflowed. */
  dropped: number;
}

/**
 * The warning the tray shows while usage rows are not reaching the disk (or were lost), or null
 * when all is written. It stays until the disk takes the rows again; lost rows stay named until
 * the gateway restarts, so a person learns that totals miss them.
 */
export function ledgerWarning(l: LedgerHealth | null | undefined): string | null {
  if (!l) return null;
  const lost = l.dropped > 0 ? `, ${l.dropped} lost` : '';
  if (!l.ok) return `Usage not saved: the disk refuses writes (${l.pending} held, retrying${lost})`;
  return l.dropped > 0 ? `${l.dropped} request${l.dropped === 1 ? '' : 's'} never recorded: the disk refused writes` : null;
}

/** Error beats off (the user asked for on and did not get it); degraded needs a running gateway. */
export function trayState(i: StatusInput): TrayState {
  if (i.startError !== null && !i.running) return 'error';
  if (!i.enabled || !i.running) return 'off';
  if (i.breakerOpen || (i.lastUpstream !== null && !i.lastUpstream.ok) || (i.ledger && !i.ledger.ok)) return 'degraded';
  return 'on';
}

/** File name of the tray icon for a state, in build/tray/ (`@2x` variants sit beside it). */
export function trayIconFile(state: TrayState): string {
  return `tray-${state}.png`;
}

export interface SpendToday {
  /** Null when there were billed requests and none had a price. */
  costUsd: number | null;
  billedRequests: number;
  unpricedRequests: number;
}

/** `$1,234.56`; amounts under a cent show as `<$0.01` so a non-zero spend never reads `$0.00`. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0.00';
  if (usd > 0 && usd < 0.01) return '<$0.01';
  const [whole, cents] = Math.abs(usd).toFixed(2).split('.') as [string, string];
  return `${usd < 0 ? '-' : ''}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}

export function spendLabel(spend: SpendToday | null): string {
  if (spend === null) return 'Today: spend unknown';
  // A model without a price is "unpriced", never $0 (its cost is missing, not zero).
  if (spend.costUsd === null) return `Today: unpriced (${spend.unpricedRequests} request${spend.unpricedRequests === 1 ? '' : 's'})`;
  const base = `Today: ${formatUsd(spend.costUsd)}`;
  return spend.unpricedRequests > 0 ? `${base} + ${spend.unpricedRequests} unpriced` : base;
}

export type TrayAction =
  | { type: 'toggle' }
  | { type: 'open-window' }
  | { type: 'configure-tool'; tool: ToolId }
  | { type: 'undo-tool'; tool: ToolId }
  | { type: 'set-autostart'; enabled: boolean }
  | { type: 'use-profile'; name: string }
  | { type: 'quit' };

export interface MenuEntry {
  kind: 'item' | 'checkbox' | 'separator' | 'submenu';
  id: string;
  label: string;
  enabled: boolean;
  checked?: boolean;
  action?: TrayAction;
  submenu?: MenuEntry[];
}

export interface ToolRow {
  id: ToolId;
  label: string;
  state: ToolState;
}

/** A profile as the tray lists it (proxy/profiles listProfiles). */
export interface ProfileItem {
  name: string;
  active: boolean;
  /** Active, but the live routing was edited since. */
  modified: boolean;
}

export interface TrayView {
  state: TrayState;
  enabled: boolean;
  port: number | null;
  startError: string | null;
  breakerOpen: boolean;
  lastUpstream: UpstreamHealth | null;
  spend: SpendToday | null;
  /** Null until the first status check has finished. */
  tools: ToolRow[] | null;
  /** Newest first. */
  alerts: AlertEvent[];
  /** Null while no gateway runs (the gateway owns the settings a switch writes). */
  profiles?: ProfileItem[] | null;
  /** Null where start-at-login is not supported. */
  autostart: boolean | null;
  /** A toggle or tool action is running: the controls that would race it are disabled. */
  busy: boolean;
  /** The usage ledger's storage state; absent or null: unknown. */
  ledger?: LedgerHealth | null;
  /** Subscription windows from Anthropic's unified rate-limit headers (control/unified-limits.ts's currentUtilization); absent or null: none seen. */
  usage?: { fiveHour: number | null; sevenDay: number | null } | null;
}

/** "5h 42% · 7d 27%": the current subscription windows, or null when none was seen. */
export function usageLabel(u: TrayView['usage']): string | null {
  if (!u || (u.fiveHour === null && u.sevenDay === null)) return null;
  const pct = (f: number | null) => (f === null ? '—' : `${Math.round(f * 100)}%`);
  return `5h ${pct(u.fiveHour)} · 7d ${pct(u.sevenDay)}`;
}

const MAX_ALERTS_IN_MENU = 5;
const MAX_LABEL = 90;

function clip(s: string, n = MAX_LABEL): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > n ? `${line.slice(0, n - 1)}…` : line;
}

export function statusLine(v: Pick<TrayView, 'state' | 'port' | 'startError' | 'breakerOpen' | 'lastUpstream' | 'ledger'>): string {
  const where = v.port !== null ? ` · 127.0.0.1:${v.port}` : '';
  switch (v.state) {
    case 'on': return `Sluice is on${where}`;
    case 'off': return 'Sluice is off';
    case 'error': return clip(`Sluice could not start: ${v.startError ?? 'unknown error'}`);
    case 'degraded': {
      const why = v.ledger && !v.ledger.ok
        ? 'usage ledger cannot write'
        : v.breakerOpen
        ? 'circuit breaker open'
        : `last upstream call failed (${v.lastUpstream?.status ?? v.lastUpstream?.error ?? 'no response'})`;
      return `Degraded: ${why}${where}`;
    }
  }
}

export function trayTooltip(v: Pick<TrayView, 'state' | 'port' | 'startError' | 'breakerOpen' | 'lastUpstream' | 'spend' | 'ledger'>): string {
  const line = statusLine(v);
  const warning = ledgerWarning(v.ledger);
  return (v.state === 'on' || v.state === 'degraded' ? `${line}\n${spendLabel(v.spend)}` : line) + (warning ? `\n${warning}` : '');
}

const TOOL_STATE_LABEL: Record<ToolState, string> = {
  'not-installed': 'not installed',
  'not-configured': 'not set up',
  'configured-by-sluice': 'uses Sluice',
  'configured-elsewhere': 'set up elsewhere',
  drifted: 'uses Sluice (edited since)',
};

const ALERT_KIND_LABEL: Record<string, string> = { budget: 'Budget', fallback: 'Fallback', breaker: 'Breaker' };
const LEVEL_MARK: Record<AlertEvent['level'], string> = { info: '·', warning: '!', critical: '!!' };

export function alertLabel(a: AlertEvent, formatTime: (ts: number) => string): string {
  const kind = ALERT_KIND_LABEL[a.kind] ?? a.kind.charAt(0).toUpperCase() + a.kind.slice(1);
  return clip(`${LEVEL_MARK[a.level]} ${formatTime(a.ts)} ${kind}: ${a.message}`);
}

/** Tools the app may configure or undo from the tray: Sluice's own applies can be undone. */
export function isToolConfigured(state: ToolState): boolean {
  return state === 'configured-by-sluice' || state === 'drifted';
}

function toolsSubmenu(v: TrayView): MenuEntry[] {
  if (v.tools === null) return [{ kind: 'item', id: 'tools-loading', label: 'Checking tools…', enabled: false }];
  const present = v.tools.filter((t) => t.state !== 'not-installed');
  if (present.length === 0) return [{ kind: 'item', id: 'tools-none', label: 'No supported tools found', enabled: false }];
  return present.map((t) => {
    const configured = isToolConfigured(t.state);
    return {
      kind: 'submenu',
      id: `tool-${t.id}`,
      label: `${t.label} — ${TOOL_STATE_LABEL[t.state]}`,
      enabled: true,
      submenu: [
        {
          kind: 'item', id: `tool-${t.id}-configure`,
          label: configured ? 'Re-apply Sluice settings' : 'Use Sluice',
          // Pointing a tool at a gateway that is off would break it at once.
          enabled: !v.busy && v.state !== 'off' && v.state !== 'error',
          action: { type: 'configure-tool', tool: t.id },
        },
        {
          kind: 'item', id: `tool-${t.id}-undo`, label: 'Undo (restore its own settings)',
          enabled: !v.busy && configured,
          action: { type: 'undo-tool', tool: t.id },
        },
      ],
    };
  });
}

/**
 * The notification for a profile switch the gateway reported (`profile:switch`), or null when it
 * is this tray's own switch (`own`: the profile the tray is applying right now; it notifies that
 * itself) or nothing changed that a person would want to hear about.
 */
export function profileSwitchNotice(e: { name: string | null; previous: string | null }, own: string | null): { title: string; body: string } | null {
  if (own !== null && e.name === own) return null;
  if (e.name === null) {
    return e.previous === null ? null : { title: 'Sluice: no profile active', body: `“${clip(e.previous, 60)}” is no longer the active profile; the routing stays as it is.` };
  }
  return { title: 'Sluice: profile switched', body: `“${clip(e.name, 60)}” is active (switched outside the tray menu). The next request uses it.` };
}

/** One checked item per profile; choosing one applies it through the running gateway. */
export function profilesSubmenu(v: Pick<TrayView, 'profiles' | 'busy'>): MenuEntry[] {
  if (!v.profiles) return [{ kind: 'item', id: 'profiles-off', label: 'Turn the proxy on to switch profiles', enabled: false }];
  if (v.profiles.length === 0) return [{ kind: 'item', id: 'profiles-none', label: 'No profiles (sluice profile save NAME)', enabled: false }];
  return v.profiles.map((p) => ({
    kind: 'checkbox' as const,
    id: `profile-${p.name}`,
    label: clip(p.active && p.modified ? `${p.name} (edited since)` : p.name, 60),
    // Choosing the active one again re-applies it (drops edits made since).
    enabled: !v.busy,
    checked: p.active,
    action: { type: 'use-profile' as const, name: p.name },
  }));
}

export function buildTrayMenu(v: TrayView, formatTime: (ts: number) => string): MenuEntry[] {
  const menu: MenuEntry[] = [
    { kind: 'item', id: 'status', label: statusLine(v), enabled: false },
  ];
  const warning = ledgerWarning(v.ledger);
  if (warning !== null) menu.push({ kind: 'item', id: 'ledger-warning', label: clip(`! ${warning}`), enabled: false });
  if (v.state === 'on' || v.state === 'degraded') menu.push({ kind: 'item', id: 'spend', label: spendLabel(v.spend), enabled: false });
  const usage = usageLabel(v.usage);
  if (usage !== null) menu.push({ kind: 'item', id: 'usage', label: usage, enabled: false });
  menu.push(
    { kind: 'separator', id: 'sep-1', label: '', enabled: true },
    { kind: 'checkbox', id: 'toggle', label: 'Proxy on', enabled: !v.busy, checked: v.enabled, action: { type: 'toggle' } },
    { kind: 'item', id: 'open-window', label: 'Open Sluice…', enabled: true, action: { type: 'open-window' } },
    { kind: 'submenu', id: 'tools', label: 'Tools', enabled: true, submenu: toolsSubmenu(v) },
    {
      kind: 'submenu', id: 'profiles', enabled: true, submenu: profilesSubmenu(v),
      label: v.profiles?.find((p) => p.active) ? `Profile: ${clip(v.profiles.find((p) => p.active)!.name, 40)}` : 'Profiles',
    },
    {
      kind: 'submenu', id: 'alerts', label: v.alerts.length ? `Recent alerts (${v.alerts.length})` : 'Recent alerts', enabled: true,
      submenu: v.alerts.length
        ? v.alerts.slice(0, MAX_ALERTS_IN_MENU).map((a, i) => ({ kind: 'item' as const, id: `alert-${i}`, label: alertLabel(a, formatTime), enabled: false }))
        : [{ kind: 'item', id: 'alerts-none', label: 'No alerts', enabled: false }],
    },
    { kind: 'separator', id: 'sep-2', label: '', enabled: true },
  );
  if (v.autostart !== null) {
    menu.push({ kind: 'checkbox', id: 'autostart', label: 'Start at login', enabled: true, checked: v.autostart, action: { type: 'set-autostart', enabled: !v.autostart } });
  }
  menu.push({ kind: 'item', id: 'quit', label: 'Quit Sluice', enabled: true, action: { type: 'quit' } });
  return menu;
}

/** `HH:MM` in the zone given as minutes east of UTC at that instant. */
export function clockTime(ts: number, tzOffsetMin: (ts: number) => number): string {
  return new Date(ts + tzOffsetMin(ts) * 60_000).toISOString().slice(11, 16);
}
