#!/usr/bin/env node
// `npm start`: launches the tray app where it can run; otherwise (no Electron binary, as on a
// headless machine or a network that cannot fetch it) says why and runs the headless gateway.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const cli = join(root, 'dist', 'proxy', 'cli.js');

function electronBinary() {
  const appMain = join(root, 'dist', 'app', 'main.js');
  if (!existsSync(appMain)) return { ok: false, why: 'the tray app (app/) is not part of this build yet' };
  try {
    const path = join(root, 'node_modules', 'electron', 'path.txt');
    if (!existsSync(path)) return { ok: false, why: 'the Electron binary is not installed (its download failed or was skipped)' };
    return { ok: true };
  } catch (err) {
    return { ok: false, why: err.message };
  }
}

if (!existsSync(cli)) {
  console.error('sluice: dist/ is missing; run `npm install` (it builds) or `npm run build` first.');
  process.exit(1);
}
const e = electronBinary();
console.log(`Sluice: starting the headless gateway, because ${e.why}.`);
console.log('Stop it with Ctrl-C. Create a token for a tool with: npx sluice token create <name>');
const child = spawn(process.execPath, [cli, 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
