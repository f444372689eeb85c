import { genesysEvent } from '../lib/events.js';
import { msSince } from '../lib/stats.js';
import type { Scenario } from './types.js';

/** Every event is new: a claim, the handler, a completion. */
export const newEvents: Scenario = {
  name: 'new events',
  description: 'each call handles a fresh event: claim, run the handler, record the result',
  async call(contender) {
    const event = genesysEvent();
    const start = process.hrtime.bigint();
    await contender.handle(event);
    return { events: 1, latencies: [msSince(start)] };
  },
};
