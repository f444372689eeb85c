import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { genesysCapture } from './captures.js';

/**
 * Writes a JSONL Genesys Cloud capture of at least `targetBytes`: blocks of generated
 * conversations, each block two hours after the last, so keys expire by retention as they would
 * over a day of traffic. Returns how many events and bytes it wrote.
 */
export async function writeLargeCapture(file: string, targetBytes: number): Promise<{ events: number; bytes: number }> {
  const out = createWriteStream(file);
  let bytes = 0;
  let events = 0;
  const start = Date.UTC(2024, 2, 1);
  for (let block = 0; bytes < targetBytes; block++) {
    const capture = genesysCapture({ seed: 1_000 + block, entities: 150, attributes: 40, startMs: start + block * 2 * 3_600_000 });
    const text = `${capture.events.map((event) => JSON.stringify(event)).join('\n')}\n`;
    bytes += Buffer.byteLength(text);
    events += capture.events.length;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { events, bytes };
}
