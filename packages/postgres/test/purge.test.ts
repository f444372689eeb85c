import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { PostgresStore } from '../src/index.js';
import { counting, schema, testPool, uniqueTable } from './helpers.js';

// Its own table: a purge on the shared table would race the conformance tests' rows.
const pool = testPool({ max: 2 });
const table = uniqueTable('purge');
const clock = manualClock();
const client = counting(pool);
const store = new PostgresStore({ client, schema, table, clock: clock.now });
const rows = async () => Number((await pool.query(`SELECT count(*) AS n FROM "${schema}"."${table}"`)).rows[0].n);

beforeAll(() => store.migrate());
afterAll(() => pool.end());

/** 23 records completed with 1 s retention, 2 still in progress with a minute to live. */
async function seed(prefix: string): Promise<void> {
  const outcomes = await store.claimMany(
    Array.from({ length: 25 }, (_, i) => ({ key: `${prefix}:${i}`, leaseMs: 1_000, retentionMs: 60_000 })),
  );
  await store.completeMany(
    outcomes.slice(0, 23).map((outcome) => ({
      key: outcome.record.key,
      fencingToken: outcome.record.fencingToken,
      result: '1',
      retentionMs: 1_000,
    })),
  );
}

describe('PostgresStore.purgeExpired', () => {
  it('deletes expired rows in bounded batches and leaves live ones', async () => {
    await seed('a');
    expect(await store.purgeExpired({ batchSize: 10 })).toBe(0);
    clock.advance(1_000);
    client.sent.length = 0;
    expect(await store.purgeExpired({ batchSize: 10 })).toBe(23);
    // 10 + 10 + 3: the short batch ends the run; then one (empty) batch of version records.
    expect(client.sent).toHaveLength(4);
    expect(await rows()).toBe(2);
    expect(await store.get('a:24')).toMatchObject({ status: 'in_progress' });
    clock.advance(60_000);
    expect(await store.purgeExpired()).toBe(2);
    expect(await rows()).toBe(0);
  });

  it('stops after maxBatches, and takes an explicit now', async () => {
    await seed('b');
    client.sent.length = 0;
    expect(await store.purgeExpired({ batchSize: 5, maxBatches: 2, now: clock.now() + 1_000 })).toBe(10);
    // Two batches of occurrences, one of version records.
    expect(client.sent).toHaveLength(3);
    expect(await rows()).toBe(15);
  });

  it('purges version records past their retention too, and only those', async () => {
    const entities = Array.from({ length: 7 }, (_, i) => `v:${i}`);
    for (const [i, entity] of entities.entries()) {
      const outcome = await store.claimVersion({ entity, version: 'a', leaseMs: 1_000, retentionMs: 60_000 });
      if (outcome.status !== 'acquired') throw new Error('expected acquired');
      await store.completeVersion(entity, outcome.fencingToken, i < 5 ? 1_000 : 60_000);
    }
    clock.advance(1_000);
    const versions = async () => Number((await pool.query(`SELECT count(*) AS n FROM ${store.qualifiedVersions}`)).rows[0].n);
    expect(await versions()).toBe(7);
    await store.purgeExpired({ batchSize: 2 });
    expect(await versions()).toBe(2);
    expect(await store.getVersion('v:6')).toMatchObject({ applied: 'a' });
  });

  it('refuses a batch size that is not a positive integer', async () => {
    await expect(store.purgeExpired({ batchSize: 0 })).rejects.toMatchObject({ field: 'batchSize' });
    await expect(store.purgeExpired({ batchSize: 1.5 })).rejects.toMatchObject({ field: 'batchSize' });
  });
});
