import { genesysEvent } from '../lib/events.js';
import { msSince } from '../lib/stats.js';
import type { Scenario } from './types.js';

/** The caller counts of the scaling table. */
export const CALLER_COUNTS = [1, 8, 64] as const;

/**
 * New events from `callers` concurrent callers (as many Lambda instances sharing one store
 * client would be, or one instance's concurrent batch): each call starts `callers` fresh events
 * at once and waits for all of them.
 */
export function concurrentNewEvents(callers: number): Scenario {
  return {
    name: `new events, ${callers} caller${callers === 1 ? '' : 's'}`,
    description: `${callers} concurrent callers, each with a fresh event: claim, handler, completion`,
    async call(contender) {
      const latencies = await Promise.all(
        Array.from({ length: callers }, async () => {
          const event = genesysEvent();
          const start = process.hrtime.bigint();
          await contender.handle(event);
          return msSince(start);
        }),
      );
      return { events: callers, latencies };
    },
  };
}
