#!/usr/bin/env node
// The `sluice` binary: process wiring around runCli().
// `sluice statusline` runs on every Claude Code render: it skips the full CLI (and its imports).
const argv = process.argv.slice(2);

if (argv[0] === 'statusline') {
  const { runStatuslineProcess } = await import('./statusline-main.js');
  process.exitCode = await runStatuslineProcess(argv);
} else {
  const { runCli, processIo } = await import('./cli-main.js');
  runCli(argv, processIo()).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`sluice: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
