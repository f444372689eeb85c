import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeLargeCapture } from './support/large-capture.js';
import { tempDir } from './support/files.js';

const MB = 1024 * 1024;
// The large file is bigger than the heap the child may use, so holding it (or its events) could
// not pass; the small one is its first blocks, to show memory does not grow with the file.
const LARGE_BYTES = 220 * MB;
const SMALL_BYTES = 40 * MB;
const HEAP_LIMIT_MB = 192;

interface Measured {
  code: number;
  peakHeap: number;
  maxRss: number;
  ms: number;
}

const dir = tempDir('idemkit-cli-memory-');

function runMeasured(args: string[]): Promise<{ stdout: string; stats: Measured }> {
  const script = fileURLToPath(new URL('./support/measure.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MB}`, '--import', 'tsx', script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stderr.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`analyze exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ stdout, stats: JSON.parse(last) as Measured });
    });
  });
}

async function analyzeMeasured(file: string, events: number, bytes: number): Promise<Measured> {
  // One read with the window given; the default's extra read for the gaps holds no more at a time.
  const { stdout, stats } = await runMeasured(['analyze', file, '--json', '--window-ms', '10000']);
  const report = JSON.parse(stdout) as { inputs: { deliveries: number; bytes: number }; recommendation: { label: string } };
  expect(report.inputs).toMatchObject({ deliveries: events, bytes });
  expect(report.recommendation.label).toMatch(/^genesysCloud/);
  console.info(`memory: ${events} events, ${Math.round(bytes / MB)} MB in ${stats.ms} ms; peak heap ${Math.round(stats.peakHeap / MB)} MB, peak RSS ${Math.round(stats.maxRss / MB)} MB`);
  return stats;
}

describe('a capture larger than memory', () => {
  it(`streams ${LARGE_BYTES / MB} MB in bounded memory: no more memory than for ${SMALL_BYTES / MB} MB, and far less than the file`, async () => {
    const small = await writeLargeCapture(dir.path('small.jsonl'), SMALL_BYTES);
    const large = await writeLargeCapture(dir.path('large.jsonl'), LARGE_BYTES);
    expect(large.bytes).toBeGreaterThanOrEqual(LARGE_BYTES);
    const few = await analyzeMeasured(dir.path('small.jsonl'), small.events, small.bytes);
    const many = await analyzeMeasured(dir.path('large.jsonl'), large.events, large.bytes);
    // The heap limit alone makes holding the file fail; the peaks show how far below it memory stays.
    expect(many.peakHeap).toBeLessThan(0.8 * HEAP_LIMIT_MB * MB);
    expect(many.maxRss).toBeLessThan(large.bytes);
    // Five times the data, and memory is what the live keys need, not what the file holds.
    expect(many.maxRss).toBeLessThan(few.maxRss + 48 * MB);
    expect(many.peakHeap).toBeLessThan(few.peakHeap + 48 * MB);
  }, 300_000);
});
