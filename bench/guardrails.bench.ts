// Guardrail cost per 100 KB scanned: each built-in detector alone over plain text, then the whole
// Messages-body path (walk + decode + all detectors, with and without redaction edits). Imports
// proxy/control only. Usage: node --import tsx bench/guardrails.bench.ts [--quick]
import { BUILTIN_DETECTORS, DETECTOR_IDS } from '../proxy/control/detectors.js';
import { REDACT_ALL, scanMessagesBody, type CompiledGuard } from '../proxy/control/guardrails.js';

const quick = process.argv.includes('--quick');
const KB100 = 100 * 1024;

/** Code-and-prose text like a Claude Code context (digits, @, dashes, base64-ish runs), no secrets. */
function sampleText(bytes: number, withSecrets: boolean): string {
  const lines = [
    'export function handler(req: Request, res: Response): Promise<void> {',
    '  const id = "d41d8cd98f00b204e9800998ecf8427e"; // build 2024-01-15 v1.2.3',
    'The deploy at 10.0.0.1 took 1700000000000 ms; see @types/node and icon@2x.png.',
    '    at Object.<anonymous> (/home/dev/app/src/index.ts:42:17) risk-free sk-learn',
    '| 1234 | 5678 | 9012 | eyJub3QiOiJqd3QifQ== | 4111 1111 1111 1112 |',
  ];
  const secrets = [`mail ada@example.com`, `AKIA${'IOSFODNN7EXAMPLE'}`, `call 555-867-5309`];
  let out = '';
  for (let i = 0; out.length < bytes; i++) out += `${lines[i % lines.length]}${withSecrets && i % 50 === 0 ? ` ${secrets[(i / 50) % 3]}` : ''}\n`;
  return out.slice(0, bytes);
}

function timeIt(fn: () => void, minMs: number): number {
  for (let i = 0; i < 3; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) { fn(); n++; }
  return (performance.now() - t0) / n;
}

const minMs = quick ? 150 : 600;
const text = sampleText(KB100, false);
const rows: [string, number][] = [];
for (const id of DETECTOR_IDS) rows.push([id, timeIt(() => BUILTIN_DETECTORS[id](text), minMs)]);
rows.push(['all detectors (text)', timeIt(() => { for (const id of DETECTOR_IDS) BUILTIN_DETECTORS[id](text); }, minMs)]);

const guard: CompiledGuard = { ...REDACT_ALL, detectors: REDACT_ALL.detectors.map((d) => ({ ...d, action: 'flag' as const })) };
const body = (t: string) => Buffer.from(JSON.stringify({
  model: 'claude-sonnet-4-5', max_tokens: 1024,
  messages: t.match(/[\s\S]{1,4096}/g)!.map((chunk, i) => ({ role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: chunk }] })),
}));
const clean = body(text);
const dirty = body(sampleText(KB100, true));
rows.push([`messages body, flag only (${(clean.length / 1024).toFixed(0)} KB)`, timeIt(() => scanMessagesBody(clean, guard), minMs) * (KB100 / clean.length)]);
rows.push(['messages body, redact (with secrets)', timeIt(() => scanMessagesBody(dirty, REDACT_ALL), minMs) * (KB100 / dirty.length)]);

const w = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`Guardrail scan cost per 100 KB (node ${process.version})\n`);
process.stdout.write(`${'detector'.padEnd(w)}  ms / 100 KB   MB/s\n${'-'.repeat(w)}  -----------  ------\n`);
for (const [name, ms] of rows) process.stdout.write(`${name.padEnd(w)}  ${ms.toFixed(3).padStart(11)}  ${(100 / 1024 / (ms / 1000)).toFixed(0).padStart(6)}\n`);
