// Node module hooks for the renderer's node:test files: runs *.svelte.ts controllers through the
// Svelte compiler, so runes work outside Vite. Tests only.
// The Svelte compiler takes JavaScript. On Node 24, tsx's loader hands *.svelte.ts back with
// its types still in (it leaves them to a later stage that this hook short-circuits), so a .ts
// module's types are stripped here first with Node's own stripper (a no-op on plain JS).
import { stripTypeScriptTypes } from 'node:module';
import { compileModule } from 'svelte/compiler';

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!/\.svelte\.(ts|js)$/.test(new URL(url).pathname)) return result;
  let source = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8');
  if (url.endsWith('.ts')) source = stripTypeScriptTypes(source, { mode: 'strip' });
  const { js } = compileModule(source, { filename: new URL(url).pathname, generate: 'client', dev: false });
  return { ...result, format: 'module', source: js.code, shortCircuit: true };
}
