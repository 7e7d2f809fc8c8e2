// The tray app's own small state (`<dataDir>/app-state.json`): whether the proxy is on and which
// tools were restored while it is off. Versioned, validated, written atomically. No electron.
import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../proxy/store/atomic-file.js';
import type { ToolId } from '../proxy/tools/index.js';

export const APP_STATE_VERSION = 1;
export const APP_STATE_FILE = 'app-state.json';

const AppStateSchema = z.object({
  version: z.literal(APP_STATE_VERSION),
  proxyEnabled: z.boolean().default(true),
  // Ids are checked against the tool registry when used: an id from a newer version is skipped
  // with a reason, not a reason to throw the whole file away.
  suspendedTools: z.array(z.string().min(1).max(64)).max(64).default([]),
});

export interface AppState {
  version: typeof APP_STATE_VERSION;
  proxyEnabled: boolean;
  suspendedTools: ToolId[];
}

export const defaultAppState = (): AppState => ({ version: APP_STATE_VERSION, proxyEnabled: true, suspendedTools: [] });

export function appStatePath(dataDir: string): string {
  return join(dataDir, APP_STATE_FILE);
}

export interface LoadedAppState {
  state: AppState;
  /** Why the file was not usable (it is then replaced by defaults on the next save). */
  problem: string | null;
}

export function parseAppState(text: string | null): LoadedAppState {
  if (text === null) return { state: defaultAppState(), problem: null };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { state: defaultAppState(), problem: `${APP_STATE_FILE} is not JSON (${(err as Error).message})` };
  }
  const parsed = AppStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { state: defaultAppState(), problem: `${APP_STATE_FILE} is invalid: ${issues}` };
  }
  return { state: { ...parsed.data, suspendedTools: parsed.data.suspendedTools as ToolId[] }, problem: null };
}

export async function loadAppState(dataDir: string): Promise<LoadedAppState> {
  return parseAppState(await readFileIfExists(appStatePath(dataDir)));
}

export async function saveAppState(dataDir: string, state: AppState): Promise<void> {
  await writeFileAtomic(appStatePath(dataDir), `${JSON.stringify(state, null, 2)}\n`, { backup: false });
}
