import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStoreConformance, type ManualClock } from '@idemkit/core/testing';
import { PostgresStore } from '../src/index.js';
import { schema, testPool, warm } from './helpers.js';

const RACERS = 50;
// Every racer holds its own connection; a little headroom for the shared-Pool variant.
const pool = testPool({ max: RACERS + 2 });
const backendsByClock = new Map<ManualClock, Set<number>>();

beforeAll(() => warm(pool, RACERS));
afterAll(() => pool.end());

runStoreConformance({ describe, it, expect }, {
  name: 'PostgresStore (each store on its own pooled connection)',
  concurrentClaimers: RACERS,
  factory: async ({ clock }) => {
    const client = await pool.connect();
    const backends = backendsByClock.get(clock) ?? new Set<number>();
    backends.add((client as unknown as { processID: number }).processID);
    backendsByClock.set(clock, backends);
    return { store: new PostgresStore({ client, schema, clock: clock.now }), close: () => client.release() };
  },
});

runStoreConformance({ describe, it, expect }, {
  name: 'PostgresStore (stores sharing one Pool)',
  concurrentClaimers: RACERS,
  factory: ({ clock }) => new PostgresStore({ client: pool, schema, clock: clock.now }),
});

// Prepared statements send a few operations as other statements (the completion as a plain UPDATE
// instead of the function an unprepared call goes through): the whole suite again on them.
runStoreConformance({ describe, it, expect }, {
  name: 'PostgresStore (sharing one Pool, preparedStatements: true)',
  concurrentClaimers: RACERS,
  factory: ({ clock }) => new PostgresStore({ client: pool, schema, clock: clock.now, preparedStatements: true }),
});

it(`the ${RACERS}-claimer races ran on ${RACERS} distinct server connections`, () => {
  const widest = Math.max(...[...backendsByClock.values()].map((backends) => backends.size));
  expect(widest).toBe(RACERS);
});
