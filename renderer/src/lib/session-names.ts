// What a person calls a session: its project folder (from the ledger or Claude Code's
// transcripts), else the tool token's name; requests without a session id are grouped per tool
// token and hour under "No session" (the ledger's ids for those groups start with "nosession:").
import { formatDateTime, projectName, shortId } from './format.js';

export const NO_SESSION_PREFIX = 'nosession:';

export interface NamedSession {
  sessionId: string;
  tool: string;
  project: string | null;
  firstSeen: number;
  /** From Claude Code's transcript, when the admin API found one. */
  firstPromptAt?: number | null;
}

export function isNoSession(id: string): boolean {
  return id.startsWith(NO_SESSION_PREFIX);
}

export function sessionName(s: NamedSession): string {
  if (isNoSession(s.sessionId)) return `No session · ${s.tool}`;
  return s.project ? projectName(s.project) : s.tool;
}

function hourLabel(ts: number): string {
  const d = new Date(ts);
  const h = (x: number) => `${String(x).padStart(2, '0')}:00`;
  return `${d.toLocaleDateString('en-US', { month: 'short', day: 'numeric' })} ${h(d.getHours())}–${h((d.getHours() + 1) % 24)}`;
}

/** The line under the name: the short id and the first prompt's time, or the hour of a "No session" group. */
export function sessionSub(s: NamedSession): string {
  if (isNoSession(s.sessionId)) return hourLabel(s.firstSeen);
  return s.firstPromptAt ? `${shortId(s.sessionId)} · first prompt ${formatDateTime(s.firstPromptAt)}` : shortId(s.sessionId);
}
