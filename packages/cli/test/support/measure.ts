// Runs the CLI in this (child) process and reports its peak memory on stderr's last line, for the
// memory test. Heap is sampled every 20 ms; the peak RSS is the kernel's, from resourceUsage.
import { main } from '../../src/cli/main.js';

let peakHeap = 0;
const sample = () => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
};
const timer = setInterval(sample, 20);
const started = performance.now();
let stdout = '';
const code = await main(process.argv.slice(2), { stdout: { write: (text: string) => (stdout += text) }, stderr: process.stderr });
clearInterval(timer);
sample();
process.stdout.write(stdout);
process.stderr.write(`\n${JSON.stringify({ code, peakHeap, maxRss: process.resourceUsage().maxRSS * 1024, ms: Math.round(performance.now() - started) })}\n`);
