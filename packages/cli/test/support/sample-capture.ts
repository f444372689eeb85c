// Writes a generated capture with known duplicates, to try `idemkit analyze` on (docs/analyze.md):
//   npx tsx packages/cli/test/support/sample-capture.ts genesys genesys-capture.jsonl.gz
//   npx tsx packages/cli/test/support/sample-capture.ts orders orders-capture.jsonl
// A name ending in .gz is gzipped. The generators are the tests' (captures.ts beside this file).
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { genesysCapture, ordersCapture } from './captures.js';

const [kind = 'genesys', file = `${kind}-capture.jsonl`, seed = '11'] = process.argv.slice(2);
const capture = kind === 'orders' ? ordersCapture({ seed: Number(seed) }) : genesysCapture({ seed: Number(seed) });
const text = `${capture.events.map((event) => JSON.stringify(event)).join('\n')}\n`;
writeFileSync(file, file.endsWith('.gz') ? gzipSync(text) : text);
console.log(`${file}: ${capture.events.length} deliveries of ${capture.logicalEvents} logical events`, capture.kinds);
