#!/usr/bin/env node
// The `sluice` binary: process wiring around runCli().
import { runCli, processIo } from './cli-main.js';

runCli(process.argv.slice(2), processIo()).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`sluice: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
