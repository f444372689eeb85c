import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBarrier } from '@idemkit/core/testing';
import { PostgresStore } from '../src/index.js';
import { schema, testPool, warm } from './helpers.js';

const BATCHES = 8;
const pool = testPool({ max: BATCHES });
const store = new PostgresStore({ client: pool, schema });

beforeAll(() => warm(pool, BATCHES));
afterAll(() => pool.end());

describe('PostgresStore.claimMany under concurrency', () => {
  it(`${BATCHES} concurrent batches of the same 10 keys in different orders: no deadlock, each key acquired once`, async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `batch:${randomUUID()}:${i}`);
    const barrier = createBarrier(BATCHES);
    const results = await Promise.all(
      Array.from({ length: BATCHES }, async (_, b) => {
        // Each batch rotates and reverses the keys, so naive row-by-row locking would cross.
        const order = [...keys.slice(b), ...keys.slice(0, b)];
        if (b % 2 === 1) order.reverse();
        await barrier.wait();
        const outcomes = await store.claimMany(order.map((key) => ({ key, leaseMs: 10_000, retentionMs: 60_000 })));
        return outcomes.map((outcome, i) => ({ key: order[i]!, outcome }));
      }),
    );
    for (const key of keys) {
      const answers = results.flat().filter((answer) => answer.key === key);
      expect(answers).toHaveLength(BATCHES);
      const winners = answers.filter((answer) => answer.outcome.acquired);
      expect(winners).toHaveLength(1);
      for (const answer of answers) expect(answer.outcome.record.fencingToken).toBe(winners[0]!.outcome.record.fencingToken);
    }
  });
});
