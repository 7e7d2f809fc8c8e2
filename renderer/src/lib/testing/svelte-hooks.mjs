// Node module hooks for the renderer's node:test files: runs *.svelte.ts controllers through the
// Svelte compiler (after tsx has stripped their types), so runes work outside Vite. Tests only.
import { compileModule } from 'svelte/compiler';

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!/\.svelte\.(ts|js)$/.test(new URL(url).pathname)) return result;
  const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8');
  const { js } = compileModule(source, { filename: new URL(url).pathname, generate: 'client', dev: false });
  return { ...result, format: 'module', source: js.code, shortCircuit: true };
}
