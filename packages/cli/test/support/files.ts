import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll } from 'vitest';
import { emptyTally, readCaptures, type ReadTally } from '../../src/input/read-captures.js';

/**
 * A temp directory for this test file, removed after its tests. Made at once (not awaited), so a
 * test may name a path in it before anything was written there.
 */
export function tempDir(prefix = 'idemkit-cli-'): { path: (name: string) => string; write: (name: string, text: string | Buffer) => Promise<string> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return {
    path: (name) => join(dir, name),
    write: async (name, text) => {
      const file = join(dir, name);
      await writeFile(file, text);
      return file;
    },
  };
}

/** JSONL text of some events. */
export function jsonl(events: readonly unknown[]): string {
  return `${events.map((event) => JSON.stringify(event)).join('\n')}\n`;
}

/** gzip of a text. */
export function gzip(text: string): Buffer {
  return gzipSync(Buffer.from(text));
}

/** Every event of some files, with the tally. */
export async function readAll(files: string[]): Promise<{ events: { event: Record<string, unknown>; line: number }[]; tally: ReadTally }> {
  const tally = emptyTally();
  const events: { event: Record<string, unknown>; line: number }[] = [];
  for await (const { event, line } of readCaptures(files, tally)) events.push({ event, line });
  return { events, tally };
}
