// `pnpm demo`: replays the bundled deliveries through idempotent() on the in-memory store,
// once per key strategy, and shows what each strategy processes, skips, doubles and loses.
import { readFileSync } from 'node:fs';
import { demoStrategies, replay, type Delivery } from './replay-lib.js';


const { deliveries } = JSON.parse(readFileSync(new URL('./sample-deliveries.json', import.meta.url), 'utf8')) as {
  deliveries: Delivery[];
};
const logicalEvents = new Set(deliveries.map((delivery) => delivery.logicalId)).size;
const kinds = countBy(deliveries.map((delivery) => delivery.kind));

console.log(`Replaying ${deliveries.length} EventBridge deliveries of ${logicalEvents} real state changes`);
console.log(Object.entries(kinds).map(([kind, count]) => `  ${count} × ${kind}`).join('\n'));
console.log();

const rows = await replay(demoStrategies, deliveries);
console.table(rows);
console.log('A right strategy processes each real change once: 0 double effects and 0 lost events.');

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
