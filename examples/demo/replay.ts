// `pnpm demo`: replays the bundled deliveries through idempotent() on the in-memory store,
// once per key strategy, and shows what each strategy processes, skips, doubles and loses.
import { readFileSync } from 'node:fs';
import { idempotent, MemoryStore, type StrategyConfig } from '@idemkit/core';

interface Delivery {
  logicalId: string;
  kind: string;
  event: { id: string };
}

const strategies: Array<{ label: string; config: StrategyConfig }> = [
  { label: 'eventId (envelope id)', config: { strategy: 'eventId' } },
  { label: 'eventId (detail.metadata.CorrelationId)', config: { strategy: 'eventId', path: 'detail.metadata.CorrelationId' } },
  { label: 'contentHash (detail, minus timestamps)', config: { strategy: 'contentHash', include: ['detail'], exclude: ['detail.timestamp'] } },
  { label: 'eventId (conversationId only: wrong key)', config: { strategy: 'eventId', path: 'detail.eventBody.conversationId' } },
  {
    label: 'stateWindow (conversation + state, 500 ms)',
    config: {
      strategy: 'stateWindow',
      entity: 'detail.eventBody.conversationId',
      state: 'detail.eventBody.state',
      time: 'detail.eventBody.eventTime',
      windowMs: 500,
    },
  },
];

const { deliveries } = JSON.parse(readFileSync(new URL('./sample-deliveries.json', import.meta.url), 'utf8')) as {
  deliveries: Delivery[];
};
const logicalEvents = new Set(deliveries.map((delivery) => delivery.logicalId)).size;
const kinds = countBy(deliveries.map((delivery) => delivery.kind));

console.log(`Replaying ${deliveries.length} EventBridge deliveries of ${logicalEvents} real state changes`);
console.log(Object.entries(kinds).map(([kind, count]) => `  ${count} × ${kind}`).join('\n'));
console.log();

const rows = [];
for (const { label, config } of strategies) {
  const effects = new Map<string, number>();
  const handler = idempotent(
    async (delivery: Delivery) => {
      effects.set(delivery.logicalId, (effects.get(delivery.logicalId) ?? 0) + 1);
      return { handled: delivery.event.id };
    },
    { store: new MemoryStore(), strategy: config, eventFrom: (delivery) => delivery.event },
  );
  let skipped = 0;
  for (const delivery of deliveries) {
    const before = effects.get(delivery.logicalId) ?? 0;
    await handler(delivery);
    if ((effects.get(delivery.logicalId) ?? 0) === before) skipped += 1;
  }
  const processed = deliveries.length - skipped;
  const doubled = [...effects.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0);
  const lost = logicalEvents - effects.size;
  rows.push({ strategy: label, processed, skipped, 'double effects': doubled, 'lost events': lost });
}
console.table(rows);
console.log('A right strategy processes each real change once: 0 double effects and 0 lost events.');

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
