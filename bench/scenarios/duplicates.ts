import type { Contender } from '../contenders/types.js';
import { genesysEvent, type GenesysEvent } from '../lib/events.js';
import { msSince } from '../lib/stats.js';
import type { Scenario } from './types.js';

/** How many completed events the duplicates cycle through. */
const POOL = 200;
const pools = new WeakMap<Contender, { events: GenesysEvent[]; next: number }>();

/** Every event was completed before: the stored result comes back and the handler does not run. */
export const completedDuplicates: Scenario = {
  name: 'completed duplicates',
  description: `each call redelivers one of ${POOL} events completed before the measurement; the handler must not run`,
  async prepare(contender) {
    const events = Array.from({ length: POOL }, () => genesysEvent());
    for (const event of events) await contender.handle(event);
    pools.set(contender, { events, next: 0 });
  },
  async call(contender) {
    const pool = pools.get(contender)!;
    const event = pool.events[pool.next++ % POOL]!;
    const start = process.hrtime.bigint();
    await contender.handle(event);
    return { events: 1, latencies: [msSince(start)] };
  },
  check(contender) {
    const pool = pools.get(contender)!;
    const reran = pool.events.filter((event) => (contender.workload.runs.get(event.id) ?? 0) !== 1).length;
    if (reran > 0) throw new Error(`${contender.name} on ${contender.store}: ${reran} duplicates ran the handler again`);
    return undefined;
  },
};
