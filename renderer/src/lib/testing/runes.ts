// Lets a node:test file import *.svelte.ts controllers: registers the Svelte compile hook once,
// then imports. Tests only.
import { register } from 'node:module';

let registered = false;

export async function importRunes<T>(specifier: string, parentUrl: string): Promise<T> {
  if (!registered) {
    register('./svelte-hooks.mjs', import.meta.url);
    registered = true;
  }
  return (await import(new URL(specifier, parentUrl).href)) as T;
}

/** Runs queued effects and settles pending promise callbacks. */
export const tick = () => new Promise<void>((r) => setTimeout(r, 0));
