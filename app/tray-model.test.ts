// Tests for the tray's pure model: state, icon, tooltip, menu entries, spend and alert labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../proxy/events.js';
import {
  alertLabel, buildTrayMenu, clockTime, formatUsd, ledgerWarning, profileSwitchNotice, spendLabel, statusLine, trayIconFile, trayState, trayTooltip,
  TRAY_STATES, type MenuEntry, type TrayView,
} from './tray-model.js';

const fmt = (ts: number) => clockTime(ts, () => 0);

function view(over: Partial<TrayView> = {}): TrayView {
  return {
    state: 'on', enabled: true, port: 7420, startError: null, breakerOpen: false, lastUpstream: null,
    spend: { costUsd: 1.5, billedRequests: 3, unpricedRequests: 0 },
    tools: [], alerts: [], autostart: false, busy: false,
    ...over,
  };
}

const find = (menu: MenuEntry[], id: string): MenuEntry | undefined => {
  for (const m of menu) {
    if (m.id === id) return m;
    const sub = m.submenu ? find(m.submenu, id) : undefined;
    if (sub) return sub;
  }
  return undefined;
};

test('trayState: error when the start failed, off when disabled or not running, degraded on upstream trouble', () => {
  const base = { enabled: true, running: true, startError: null, breakerOpen: false, lastUpstream: null };
  assert.equal(trayState(base), 'on');
  assert.equal(trayState({ ...base, lastUpstream: { ok: true, status: 200, error: null } }), 'on');
  assert.equal(trayState({ ...base, enabled: false, running: false }), 'off');
  assert.equal(trayState({ ...base, running: false }), 'off');
  assert.equal(trayState({ ...base, running: false, startError: 'port in use' }), 'error');
  assert.equal(trayState({ ...base, breakerOpen: true }), 'degraded');
  assert.equal(trayState({ ...base, lastUpstream: { ok: false, status: 529, error: null } }), 'degraded');
  // A stale error from an earlier attempt does not hide a gateway that is running now.
  assert.equal(trayState({ ...base, startError: 'old' }), 'on');
});

test('each state has its own icon file', () => {
  const files = TRAY_STATES.map(trayIconFile);
  assert.deepEqual(files, ['tray-on.png', 'tray-off.png', 'tray-degraded.png', 'tray-error.png']);
});

test('status line and tooltip per state', () => {
  assert.equal(statusLine(view()), 'Sluice is on · 127.0.0.1:7420');
  assert.equal(statusLine(view({ state: 'off', port: null })), 'Sluice is off');
  assert.equal(statusLine(view({ state: 'error', port: null, startError: 'the port is in use' })), 'Sluice could not start: the port is in use');
  assert.equal(statusLine(view({ state: 'degraded', breakerOpen: true })), 'Degraded: circuit breaker open · 127.0.0.1:7420');
  assert.equal(statusLine(view({ state: 'degraded', lastUpstream: { ok: false, status: 529, error: null } })), 'Degraded: last upstream call failed (529) · 127.0.0.1:7420');
  assert.equal(statusLine(view({ state: 'degraded', lastUpstream: { ok: false, status: null, error: 'UPSTREAM_TIMEOUT' } })), 'Degraded: last upstream call failed (UPSTREAM_TIMEOUT) · 127.0.0.1:7420');
  const long = statusLine(view({ state: 'error', startError: 'x'.repeat(300) }));
  assert.equal(long.length, 90);
  assert.ok(long.endsWith('…'));
  assert.equal(trayTooltip(view()), 'Sluice is on · 127.0.0.1:7420\nToday: $1.50');
  assert.equal(trayTooltip(view({ state: 'off', port: null })), 'Sluice is off');
});

test('formatUsd: cents, thousands separators, sub-cent amounts never read as zero', () => {
  assert.equal(formatUsd(0), '$0.00');
  assert.equal(formatUsd(0.004), '<$0.01');
  assert.equal(formatUsd(0.01), '$0.01');
  assert.equal(formatUsd(1.004), '$1.00');
  assert.equal(formatUsd(999.999), '$1,000.00');
  assert.equal(formatUsd(12.3), '$12.30');
  assert.equal(formatUsd(1234.5), '$1,234.50');
  assert.equal(formatUsd(1234567.891), '$1,234,567.89');
  assert.equal(formatUsd(-3.2), '-$3.20');
});

test('spendLabel: unknown, priced, partly unpriced, wholly unpriced', () => {
  assert.equal(spendLabel(null), 'Today: spend unknown');
  assert.equal(spendLabel({ costUsd: 0, billedRequests: 0, unpricedRequests: 0 }), 'Today: $0.00');
  assert.equal(spendLabel({ costUsd: 2.25, billedRequests: 4, unpricedRequests: 1 }), 'Today: $2.25 + 1 unpriced');
  assert.equal(spendLabel({ costUsd: null, billedRequests: 2, unpricedRequests: 2 }), 'Today: unpriced (2 requests)');
  assert.equal(spendLabel({ costUsd: null, billedRequests: 1, unpricedRequests: 1 }), 'Today: unpriced (1 request)');
});

test('menu when on: status, spend, toggle checked, window, tools, alerts, autostart, quit in order', () => {
  const menu = buildTrayMenu(view(), fmt);
  assert.deepEqual(menu.map((m) => m.id), ['status', 'spend', 'sep-1', 'toggle', 'open-window', 'tools', 'profiles', 'alerts', 'sep-2', 'autostart', 'quit']);
  assert.equal(find(menu, 'spend')!.label, 'Today: $1.50');
  assert.equal(find(menu, 'status')!.enabled, false);
  const toggle = find(menu, 'toggle')!;
  assert.equal(toggle.kind, 'checkbox');
  assert.equal(toggle.checked, true);
  assert.deepEqual(toggle.action, { type: 'toggle' });
  assert.deepEqual(find(menu, 'open-window')!.action, { type: 'open-window' });
  assert.deepEqual(find(menu, 'quit')!.action, { type: 'quit' });
  const auto = find(menu, 'autostart')!;
  assert.equal(auto.checked, false);
  assert.deepEqual(auto.action, { type: 'set-autostart', enabled: true });
});

test('menu when off or in error: no spend line, toggle unchecked when off', () => {
  const off = buildTrayMenu(view({ state: 'off', enabled: false, port: null }), fmt);
  assert.equal(find(off, 'spend'), undefined);
  assert.equal(find(off, 'toggle')!.checked, false);
  assert.equal(find(off, 'status')!.label, 'Sluice is off');
  const err = buildTrayMenu(view({ state: 'error', port: null, startError: 'the port is in use' }), fmt);
  assert.equal(find(err, 'spend'), undefined);
  assert.equal(find(err, 'toggle')!.checked, true);
  const degraded = buildTrayMenu(view({ state: 'degraded', breakerOpen: true }), fmt);
  assert.equal(find(degraded, 'spend')!.label, 'Today: $1.50');
});

test('menu without start-at-login support has no autostart item; checked when enabled', () => {
  assert.equal(find(buildTrayMenu(view({ autostart: null }), fmt), 'autostart'), undefined);
  const on = find(buildTrayMenu(view({ autostart: true }), fmt), 'autostart')!;
  assert.equal(on.checked, true);
  assert.deepEqual(on.action, { type: 'set-autostart', enabled: false });
});

test('busy disables the toggle and tool actions', () => {
  const menu = buildTrayMenu(view({ busy: true, tools: [{ id: 'claude-code', label: 'Claude Code (CLI)', state: 'configured-by-sluice' }] }), fmt);
  assert.equal(find(menu, 'toggle')!.enabled, false);
  assert.equal(find(menu, 'tool-claude-code-configure')!.enabled, false);
  assert.equal(find(menu, 'tool-claude-code-undo')!.enabled, false);
  assert.equal(find(menu, 'quit')!.enabled, true);
});

test('tools submenu: loading, none installed, and one entry per installed tool', () => {
  assert.deepEqual(find(buildTrayMenu(view({ tools: null }), fmt), 'tools')!.submenu!.map((m) => m.label), ['Checking tools…']);
  const none = buildTrayMenu(view({ tools: [{ id: 'cline', label: 'Cline', state: 'not-installed' }] }), fmt);
  assert.deepEqual(find(none, 'tools')!.submenu!.map((m) => [m.id, m.enabled]), [['tools-none', false]]);

  const tools = [
    { id: 'claude-code' as const, label: 'Claude Code (CLI)', state: 'configured-by-sluice' as const },
    { id: 'cline' as const, label: 'Cline', state: 'not-configured' as const },
    { id: 'shell' as const, label: 'Shell', state: 'not-installed' as const },
    { id: 'cursor-terminal' as const, label: 'Cursor terminal', state: 'configured-elsewhere' as const },
    { id: 'claude-code-vscode' as const, label: 'VS Code', state: 'drifted' as const },
  ];
  const menu = buildTrayMenu(view({ tools }), fmt);
  const sub = find(menu, 'tools')!.submenu!;
  assert.deepEqual(sub.map((m) => m.label), [
    'Claude Code (CLI) — uses Sluice',
    'Cline — not set up',
    'Cursor terminal — set up elsewhere',
    'VS Code — uses Sluice (edited since)',
  ]);
  assert.deepEqual(find(menu, 'tool-claude-code-configure')!.action, { type: 'configure-tool', tool: 'claude-code' });
  assert.equal(find(menu, 'tool-claude-code-configure')!.label, 'Re-apply Sluice settings');
  assert.deepEqual(find(menu, 'tool-claude-code-undo')!.action, { type: 'undo-tool', tool: 'claude-code' });
  assert.equal(find(menu, 'tool-claude-code-undo')!.enabled, true);
  assert.equal(find(menu, 'tool-cline-configure')!.label, 'Use Sluice');
  assert.equal(find(menu, 'tool-cline-undo')!.enabled, false, 'nothing of Sluice to undo');
  assert.equal(find(menu, 'tool-claude-code-vscode-undo')!.enabled, true, 'drifted is still Sluice’s apply');
  assert.equal(find(menu, 'tool-cursor-terminal-undo')!.enabled, false);

  const off = buildTrayMenu(view({ state: 'off', enabled: false, port: null, tools }), fmt);
  assert.equal(find(off, 'tool-cline-configure')!.enabled, false, 'no configuring towards a gateway that is off');
  assert.equal(find(off, 'tool-claude-code-undo')!.enabled, true, 'undo works while off');
});

test('alerts submenu: empty, each kind labelled, newest five only', () => {
  assert.deepEqual(find(buildTrayMenu(view(), fmt), 'alerts')!.submenu!.map((m) => m.label), ['No alerts']);
  const ts = Date.UTC(2026, 10, 21, 14, 2);
  const alerts: AlertEvent[] = [
    { kind: 'budget', level: 'warning', message: 'Daily budget at 80% ($4.00 of $5.00)', ts },
    { kind: 'fallback', level: 'info', message: 'claude-opus-4-5 failed; answered by claude-sonnet-4-5', ts },
    { kind: 'breaker', level: 'critical', message: 'Anthropic breaker open after 5 failures', ts },
    { kind: 'capture', level: 'warning', message: 'Body capture is on', ts },
    { kind: 'budget', level: 'critical', message: 'Monthly budget reached', ts },
    { kind: 'budget', level: 'info', message: 'sixth, not shown', ts },
  ];
  const menu = buildTrayMenu(view({ alerts }), fmt);
  const alertMenu = find(menu, 'alerts')!;
  assert.equal(alertMenu.label, 'Recent alerts (6)');
  assert.deepEqual(alertMenu.submenu!.map((m) => m.label), [
    '! 14:02 Budget: Daily budget at 80% ($4.00 of $5.00)',
    '· 14:02 Fallback: claude-opus-4-5 failed; answered by claude-sonnet-4-5',
    '!! 14:02 Breaker: Anthropic breaker open after 5 failures',
    '! 14:02 Capture: Body capture is on',
    '!! 14:02 Budget: Monthly budget reached',
  ]);
  assert.ok(alertMenu.submenu!.every((m) => m.enabled === false));
});

test('alertLabel collapses whitespace and clips long messages', () => {
  const label = alertLabel({ kind: 'budget', level: 'info', message: `a\n\nb ${'c'.repeat(200)}`, ts: 0 }, fmt);
  assert.ok(label.startsWith('· 00:00 Budget: a b ccc'));
  assert.equal(label.length, 90);
});

test('clockTime uses the given zone offset', () => {
  const ts = Date.UTC(2026, 0, 1, 23, 30);
  assert.equal(clockTime(ts, () => 0), '23:30');
  assert.equal(clockTime(ts, () => 60), '00:30');
  assert.equal(clockTime(ts, () => -300), '18:30');
});

test('profiles submenu: one checkbox per profile, the active one checked and named in the parent; off and empty states', () => {
  const profiles = [
    { name: 'Anthropic direct', active: false, modified: false },
    { name: 'Background on Haiku', active: true, modified: false },
  ];
  const menu = buildTrayMenu(view({ profiles }), fmt);
  const parent = find(menu, 'profiles')!;
  assert.equal(parent.label, 'Profile: Background on Haiku');
  assert.deepEqual(parent.submenu!.map((m) => [m.kind, m.label, m.checked, m.enabled]), [
    ['checkbox', 'Anthropic direct', false, true],
    ['checkbox', 'Background on Haiku', true, true],
  ]);
  assert.deepEqual(find(menu, 'profile-Anthropic direct')!.action, { type: 'use-profile', name: 'Anthropic direct' });
  // Edited since it was applied: still checked, and says so.
  const edited = buildTrayMenu(view({ profiles: [{ name: 'X', active: true, modified: true }] }), fmt);
  assert.equal(find(edited, 'profile-X')!.label, 'X (edited since)');
  // A switch in progress (or any other action) disables the choices.
  assert.equal(find(buildTrayMenu(view({ profiles, busy: true }), fmt), 'profile-Anthropic direct')!.enabled, false);
  assert.deepEqual(find(buildTrayMenu(view({ profiles: null }), fmt), 'profiles')!.submenu!.map((m) => [m.label, m.enabled]), [['Turn the proxy on to switch profiles', false]]);
  assert.deepEqual(find(buildTrayMenu(view({ profiles: [] }), fmt), 'profiles')!.submenu!.map((m) => m.label), ['No profiles (sluice profile save NAME)']);
  assert.equal(find(buildTrayMenu(view({ profiles: [] }), fmt), 'profiles')!.label, 'Profiles');
});

test('the subscription windows line: "5h 42% · 7d 27%" under the spend, only once a window was seen', async () => {
  const { usageLabel } = await import('./tray-model.js');
  assert.equal(usageLabel({ fiveHour: 0.42, sevenDay: 0.274 }), '5h 42% · 7d 27%');
  assert.equal(usageLabel({ fiveHour: null, sevenDay: 0.5 }), '5h — · 7d 50%');
  assert.equal(usageLabel({ fiveHour: null, sevenDay: null }), null);
  assert.equal(usageLabel(undefined), null);
  const ids = (m: MenuEntry[]) => m.map((e) => e.id);
  const withUsage = buildTrayMenu(view({ usage: { fiveHour: 0.42, sevenDay: 0.27 } }), fmt);
  assert.deepEqual(withUsage.find((e) => e.id === 'usage'), { kind: 'item', id: 'usage', label: '5h 42% · 7d 27%', enabled: false });
  assert.equal(ids(withUsage).indexOf('usage'), ids(withUsage).indexOf('spend') + 1);
  assert.ok(!ids(buildTrayMenu(view(), fmt)).includes('usage'));
});

test('a ledger that cannot write: degraded, said in the status line, tooltip and menu until it clears; lost rows stay named', () => {
  const failing = { ok: false, pending: 12, dropped: 0 };
  const base = { enabled: true, running: true, startError: null, breakerOpen: false, lastUpstream: null };
  assert.equal(trayState({ ...base, ledger: failing }), 'degraded');
  assert.equal(trayState({ ...base, ledger: { ok: true, pending: 0, dropped: 0 } }), 'on');
  assert.equal(trayState({ ...base, ledger: null }), 'on');
  assert.equal(trayState({ ...base, enabled: false, ledger: failing }), 'off', 'off stays off');

  const v = view({ state: 'degraded', ledger: failing });
  assert.equal(statusLine(v), 'Degraded: usage ledger cannot write · 127.0.0.1:7420');
  assert.equal(ledgerWarning(failing), 'Usage not saved: the disk refuses writes (12 held, retrying)');
  assert.match(trayTooltip(v), /\nUsage not saved: the disk refuses writes \(12 held, retrying\)$/);
  const menu = buildTrayMenu(v, fmt);
  assert.equal(menu[1]!.id, 'ledger-warning', 'right under the status line');
  assert.equal(menu[1]!.label, '! Usage not saved: the disk refuses writes (12 held, retrying)');
  assert.equal(menu[1]!.enabled, false);

  assert.equal(ledgerWarning({ ok: false, pending: 10_000, dropped: 3 }), 'Usage not saved: the disk refuses writes (10000 held, retrying, 3 lost)');
  // Cleared: the warning goes; rows dropped on the way are still named.
  assert.equal(find(buildTrayMenu(view({ ledger: { ok: true, pending: 0, dropped: 0 } }), fmt), 'ledger-warning'), undefined);
  assert.equal(find(buildTrayMenu(view(), fmt), 'ledger-warning'), undefined);
  assert.equal(find(buildTrayMenu(view({ ledger: { ok: true, pending: 0, dropped: 1 } }), fmt), 'ledger-warning')?.label, '! 1 request never recorded: the disk refused writes');
});

test('profile switch notice: switches made elsewhere notify, the tray\'s own switch does not (it notified already)', () => {
  assert.deepEqual(profileSwitchNotice({ name: 'Beta', previous: 'Alpha' }, null),
    { title: 'Sluice: profile switched', body: '“Beta” is active (switched outside the tray menu). The next request uses it.' });
  assert.equal(profileSwitchNotice({ name: 'Beta', previous: 'Alpha' }, 'Beta'), null, 'own switch');
  assert.notEqual(profileSwitchNotice({ name: 'Alpha', previous: 'Beta' }, 'Beta'), null, 'another switch while the tray applies its own');
  assert.deepEqual(profileSwitchNotice({ name: null, previous: 'Alpha' }, null),
    { title: 'Sluice: no profile active', body: '“Alpha” is no longer the active profile; the routing stays as it is.' });
  assert.equal(profileSwitchNotice({ name: null, previous: null }, null), null);
  assert.match(profileSwitchNotice({ name: 'x'.repeat(64), previous: null }, null)!.body, /^“x{59}…” is active/);
});
