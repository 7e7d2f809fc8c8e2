// Pure: what turning the proxy off and on again means for tools Sluice configured. Off: offer to
// restore their own settings (undo) and remember which; on: re-apply those. Never imports electron.
import type { ToolId } from '../proxy/tools/index.js';
import { isToolConfigured, type ToolRow } from './tray-model.js';

export interface ConfirmPrompt {
  type: 'question';
  title: string;
  message: string;
  detail: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
}

export type ToggleOffChoice = 'restore' | 'leave' | 'cancel';
/** Button order of the toggle-off prompt; a response index maps back through this. */
export const TOGGLE_OFF_CHOICES: readonly ToggleOffChoice[] = ['restore', 'leave', 'cancel'];

export interface ToggleOffPlan {
  /** Tools whose config points at this gateway (they fail while it is off). */
  configured: ToolRow[];
  /** Null when nothing would break: turn off without asking. */
  prompt: ConfirmPrompt | null;
}

export function planToggleOff(tools: readonly ToolRow[]): ToggleOffPlan {
  const configured = tools.filter((t) => isToolConfigured(t.state));
  if (configured.length === 0) return { configured, prompt: null };
  const names = configured.map((t) => t.label);
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
  return {
    configured,
    prompt: {
      type: 'question',
      title: 'Turn Sluice off',
      message: `${list} ${configured.length === 1 ? 'is' : 'are'} set up to use Sluice and cannot reach the API while it is off.`,
      detail: 'Restore their own settings while Sluice is off? Sluice puts its settings back when you turn it on again.',
      buttons: ['Restore their settings', 'Leave them pointing at Sluice', 'Cancel'],
      defaultId: 0,
      cancelId: 2,
    },
  };
}

/** Maps a message box response to a choice; anything unexpected (closed box) is cancel. */
export function toggleOffChoice(response: number): ToggleOffChoice {
  return TOGGLE_OFF_CHOICES[response] ?? 'cancel';
}

export interface ToggleOffDecision {
  /** False: stay on. */
  proceed: boolean;
  /** Tools to undo before the gateway closes. */
  undo: ToolId[];
}

export function decideToggleOff(plan: ToggleOffPlan, choice: ToggleOffChoice | null): ToggleOffDecision {
  if (plan.prompt === null) return { proceed: true, undo: [] };
  if (choice === 'cancel' || choice === null) return { proceed: false, undo: [] };
  return { proceed: true, undo: choice === 'restore' ? plan.configured.map((t) => t.id) : [] };
}

/**
 * What to remember after the undos ran: only tools that really were undone come back on. Tools
 * already remembered from an earlier off (e.g. an app restart while off) are kept.
 */
export function rememberSuspended(previous: readonly ToolId[], undone: readonly ToolId[]): ToolId[] {
  return [...new Set([...previous, ...undone])];
}

export interface ToggleOnPlan {
  reapply: ToolId[];
  skipped: { tool: ToolId; reason: string }[];
}

/**
 * Tools restored at toggle-off get Sluice's settings back, unless the user pointed them
 * somewhere else meanwhile (their choice wins) or they are gone.
 */
export function planToggleOn(suspended: readonly ToolId[], tools: readonly ToolRow[]): ToggleOnPlan {
  const plan: ToggleOnPlan = { reapply: [], skipped: [] };
  for (const id of suspended) {
    const row = tools.find((t) => t.id === id);
    if (!row) plan.skipped.push({ tool: id, reason: 'is not a tool this version knows' });
    else if (row.state === 'not-configured') plan.reapply.push(id);
    else if (isToolConfigured(row.state)) plan.skipped.push({ tool: id, reason: 'already uses Sluice' });
    else if (row.state === 'configured-elsewhere') plan.skipped.push({ tool: id, reason: 'was pointed elsewhere while Sluice was off; left as you set it' });
    else plan.skipped.push({ tool: id, reason: 'is no longer installed' });
  }
  return plan;
}
