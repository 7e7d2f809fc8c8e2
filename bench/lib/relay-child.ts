// Entry of the relay child process: `relay-child.ts <upstream-url> [undici module dir]`. Prints
// `READY <url>`; exits when its parent goes away (stdin closes) or on SIGTERM/SIGINT.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { startRelay } from './relay.js';

const [upstreamUrl, undiciDir] = process.argv.slice(2);
if (!upstreamUrl) throw new Error('usage: relay-child.ts <upstream-url> [undici-dir]');
const undici = (undiciDir
  ? await import(pathToFileURL(join(undiciDir, 'index.js')).href)
  : await import('undici')) as typeof import('undici');
const relay = await startRelay(upstreamUrl, undici);
process.stdout.write(`READY ${relay.url}\n`);
const stop = () => { relay.close().finally(() => process.exit(0)); };
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
