// One V8 setting for a process that forwards large request bodies. Imports node:v8 only.
//
// Every request body lives in a Buffer, whose bytes are "external" to V8's heap. By default
// V8 starts a full mark-compact each time external memory grows by a fixed step since the
// last one, however small the heap: at 1 MB bodies that was a mark-compact every ~16
// requests, a third of the gateway's CPU (bench/PROFILE.md). Counting external memory in the
// global limit instead lets the limit scale with what the process really holds; bodies are
// still freed, just in fewer, larger collections.
import { setFlagsFromString } from 'node:v8';

let applied = false;

/** Applies the setting once per process. Safe to call more than once. */
export function tuneGcForBodies(): void {
  if (applied) return;
  applied = true;
  // A choice made on the command line (either way) is kept.
  if (process.execArgv.some((a) => a.includes('external-memory-accounted-in-global-limit'))) return;
  try {
    setFlagsFromString('--external-memory-accounted-in-global-limit');
  } catch {
    // An engine without the flag keeps its defaults.
  }
}
