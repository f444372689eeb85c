import type { Contender, SqsRecordLike } from '../contenders/types.js';
import { genesysEvent, type GenesysEvent } from '../lib/events.js';
import { msSince } from '../lib/stats.js';
import type { Scenario } from './types.js';

const history = new WeakMap<Contender, GenesysEvent[]>();
let messages = 0;

const record = (event: GenesysEvent): SqsRecordLike => ({ messageId: `m-${++messages}`, body: JSON.stringify(event) });

/**
 * An SQS batch of 10 EventBridge events: 7 new, 2 redeliveries of events completed in earlier
 * batches, and 1 repeat of a new event inside the same batch (the 3 duplicates).
 */
export const sqsBatch: Scenario = {
  name: 'SQS batch of 10 (3 dup)',
  description: 'one call is an SQS batch of 10: 7 new events, 2 redeliveries of earlier batches, 1 repeat inside the batch',
  async prepare(contender) {
    const seed = Array.from({ length: 10 }, () => genesysEvent());
    await contender.handleBatch(seed.map(record));
    history.set(contender, seed);
  },
  async call(contender) {
    const earlier = history.get(contender)!;
    const fresh = Array.from({ length: 7 }, () => genesysEvent());
    const pick = () => earlier[Math.floor(Math.random() * earlier.length)]!;
    const batch = [...fresh.slice(0, 4), pick(), fresh[1]!, ...fresh.slice(4), pick()];
    const start = process.hrtime.bigint();
    const failed = await contender.handleBatch(batch.map(record));
    const latency = msSince(start);
    if (failed.length > 0) throw new Error(`${contender.name} on ${contender.store}: ${failed.length} records of a batch failed`);
    earlier.push(...fresh);
    if (earlier.length > 500) earlier.splice(0, earlier.length - 500);
    return { events: batch.length, latencies: [latency] };
  },
};
