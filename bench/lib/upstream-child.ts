// Entry of the benchmark's upstream child process: starts bench-upstream on 127.0.0.1, prints
// `READY <url>`, and exits when its parent goes away (stdin closes) or on SIGTERM/SIGINT.
import { startBenchUpstream } from './bench-upstream.js';

const upstream = await startBenchUpstream();
process.stdout.write(`READY ${upstream.url}\n`);
const stop = () => { upstream.close().finally(() => process.exit(0)); };
// The parent holds our stdin open; EOF means it exited, even by SIGKILL: never outlive it.
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
