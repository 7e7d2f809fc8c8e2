// Typed access to scripts/start.mjs (plain JS, no declarations) for the tests in this folder.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const START_SCRIPT = join(ROOT, 'scripts', 'start.mjs');

export type ElectronCheck = { ok: true; binary: string } | { ok: false; why: string; download?: string };

type Where = { root: string; env: Record<string, string | undefined>; platform: NodeJS.Platform };

export interface StartScript {
  electronCheck(o: Where): ElectronCheck;
  downloadElectron(check: ElectronCheck, o: Where & { timeoutMs?: number; stdio?: 'inherit' | 'ignore' }): ElectronCheck;
  buildNeeded(root: string): string | null;
}

export async function loadStartScript(): Promise<StartScript> {
  return (await import(pathToFileURL(START_SCRIPT).href)) as StartScript;
}
