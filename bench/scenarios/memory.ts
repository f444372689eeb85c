import { fileURLToPath } from 'node:url';
import { forkTs } from '../lib/tsx-child.js';

/** Heap taken by a MemoryStore holding `keys` completed keys. */
export interface MemoryResult {
  keys: number;
  heapBytes: number;
  bytesPerKey: number;
  /** Time to claim and complete them all, ms. */
  elapsedMs: number;
}

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));

/** Measures each count in its own process (heapUsed after full GCs, before vs after). */
export async function measureMemory(counts: readonly number[]): Promise<MemoryResult[]> {
  const results: MemoryResult[] = [];
  for (const keys of counts) {
    const child = forkTs(CHILD, [String(keys)], {
      nodeArgs: ['--expose-gc', '--max-old-space-size=4096'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`memory measurement for ${keys} keys exited with ${code}`);
    const { heapBytes, elapsedMs } = JSON.parse(output.trim().split('\n').pop()!) as { heapBytes: number; elapsedMs: number };
    results.push({ keys, heapBytes, bytesPerKey: heapBytes / keys, elapsedMs });
  }
  return results;
}
