import type { Contender } from '../contenders/types.js';
import { genesysEvent } from '../lib/events.js';
import { msSince } from '../lib/stats.js';
import type { Scenario } from './types.js';

const CALLERS = 50;
/** The handler's own work: long enough that callers overlap it, as a real handler's I/O does. */
const WORK_MS = 2;

interface Tally {
  keys: string[];
  answered: number;
  inProgress: number;
}
const tallies = new WeakMap<Contender, Tally>();

/** One key, 50 callers at once: exactly one may run the handler; the rest get the result or "in progress". */
export const hotKey: Scenario = {
  name: `hot key x${CALLERS}`,
  description: `${CALLERS} concurrent callers deliver the same new event (handler takes ${WORK_MS} ms); one call = one key`,
  async prepare(contender) {
    contender.workload.delayMs = WORK_MS;
    tallies.set(contender, { keys: [], answered: 0, inProgress: 0 });
  },
  async call(contender) {
    const tally = tallies.get(contender)!;
    const event = genesysEvent();
    tally.keys.push(event.id);
    const latencies = await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        const start = process.hrtime.bigint();
        try {
          await contender.handle(event);
          tally.answered += 1;
        } catch (error) {
          // Each library's "in progress, retry later" error: that caller's delivery would be retried.
          if (!/InProgress/.test((error as Error).name)) throw error;
          tally.inProgress += 1;
        }
        return msSince(start);
      }),
    );
    return { events: CALLERS, latencies };
  },
  check(contender) {
    const tally = tallies.get(contender)!;
    const runs = tally.keys.map((key) => contender.workload.runs.get(key) ?? 0);
    const wrong = runs.filter((count) => count !== 1).length;
    if (wrong > 0) throw new Error(`${contender.name} on ${contender.store}: ${wrong} hot keys ran ${Math.max(...runs)} times`);
    const total = tally.answered + tally.inProgress;
    return `1 run per key; ${Math.round((100 * tally.inProgress) / total)}% told "in progress"`;
  },
};
