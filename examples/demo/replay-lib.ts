// The demo's replay, shared by `pnpm demo` and its test: runs deliveries through idempotent() on the
// in-memory store and counts, per logical event, how often the side effect ran.
import { anyOf, eventId, idempotent, MemoryStore, stateWindow, type DedupKeyStrategy, type StrategyConfig } from '@idemkit/core';
import { genesysCloud } from '@idemkit/eventbridge';

const conversationState = {
  entity: 'detail.eventBody.conversationId',
  state: 'detail.eventBody.state',
  time: 'detail.eventBody.eventTime',
  windowMs: 500,
};

/** The strategies the demo compares: hand-written ones, wrong ones, and the preset. */
export const demoStrategies: Array<{ label: string; config: StrategyConfig | DedupKeyStrategy }> = [
  { label: 'eventId (envelope id)', config: { strategy: 'eventId' } },
  { label: 'eventId (detail.metadata.CorrelationId)', config: { strategy: 'eventId', path: 'detail.metadata.CorrelationId' } },
  { label: 'contentHash (detail, minus timestamps)', config: { strategy: 'contentHash', include: ['detail'], exclude: ['detail.timestamp'] } },
  { label: 'eventId (conversationId only: wrong key)', config: { strategy: 'eventId', path: 'detail.eventBody.conversationId' } },
  { label: 'stateWindow (conversation + state, 500 ms)', config: { strategy: 'stateWindow', ...conversationState } },
  { label: 'anyOf (envelope id, state window)', config: anyOf([eventId(), stateWindow(conversationState)]) },
  { label: 'preset genesysCloud()', config: genesysCloud() },
];

/** One captured delivery, with the demo's ground truth of which real change it belongs to. */
export interface Delivery {
  logicalId: string;
  kind: string;
  event: { id: string };
}

/** What one strategy did to the deliveries. */
export interface ReplayRow {
  strategy: string;
  processed: number;
  skipped: number;
  'double effects': number;
  'lost events': number;
}

/** Replays every delivery, in order, through one wrapped handler per strategy. */
export async function replay(
  strategies: ReadonlyArray<{ label: string; config: StrategyConfig | DedupKeyStrategy }>,
  deliveries: readonly Delivery[],
): Promise<ReplayRow[]> {
  const logicalEvents = new Set(deliveries.map((delivery) => delivery.logicalId)).size;
  const rows: ReplayRow[] = [];
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
    rows.push({ strategy: label, processed, skipped, 'double effects': doubled, 'lost events': logicalEvents - effects.size });
  }
  return rows;
}
