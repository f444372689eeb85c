import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import fc from 'fast-check';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { IdempotencyEngine, eventId, type IdempotencyStore } from '@idemkit/core';
import { PostgresStore } from '@idemkit/postgres';
import { RedisStore } from '@idemkit/redis';
import { Redis } from 'ioredis';
// The same generated streams core's engine tests run on MemoryStore.
import { byIdOrState, byState, stateStreams, type StateEvent } from '../../packages/core/test/support/state-streams.js';
import { deleteKeys } from '../contenders/redis.js';
import { localDynamoDBClient } from '../lib/dynamodb-local.js';
import { DATABASE_URL, REDIS_URL, runId } from '../lib/env.js';
import { newPool, type Pool } from '../lib/pg.js';

// Generated streams (late redeliveries, re-sends with new ids, shuffled order, several occurrences
// of one state in one SQS batch) through the real engine on each real store: every logical event
// runs exactly once, delivered one by one and in batches whose failed records are redelivered.
// The conformance suite proves the store contract; this proves the engine on top of each store.

const prefix = runId('streams');
let streamNo = 0;
const idPrefix = () => `${prefix}-${streamNo++}-`;

let redis: Redis;
let pool: Pool;
const stores: Record<'redis' | 'postgres' | 'dynamodb', () => IdempotencyStore> = {} as never;
let closeDynamoDB: () => void = () => undefined;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  const redisStore = new RedisStore({ client: redis, prefix });
  pool = newPool({ connectionString: DATABASE_URL, max: 4 });
  await pool.query(`CREATE SCHEMA "${prefix}"`);
  const postgresStore = new PostgresStore({ client: pool, schema: prefix, table: 'records', preparedStatements: true });
  await postgresStore.migrate();
  const client = localDynamoDBClient(inject('dynamodbEndpoint'));
  const dynamodbStore = new DynamoDBStore({ client, tableName: prefix.replace(/_/g, '-') });
  await dynamodbStore.createTable();
  closeDynamoDB = () => client.destroy();
  Object.assign(stores, { redis: () => redisStore, postgres: () => postgresStore, dynamodb: () => dynamodbStore });
}, 60_000);

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
  await pool.query(`DROP SCHEMA "${prefix}" CASCADE`);
  await pool.end();
  closeDynamoDB();
});

async function deliver(engine: IdempotencyEngine<StateEvent, string>, deliveries: Array<{ logical: number; event: StateEvent }>, batchSize: number | undefined, runs: number[]) {
  if (batchSize === undefined) {
    for (const { logical, event } of deliveries) await engine.run(event, async () => (runs[logical]!++, 'ok'));
    return;
  }
  let queue = deliveries;
  for (let round = 0; queue.length > 0; round++) {
    if (round > 50) throw new Error('records kept failing');
    const failed: typeof deliveries = [];
    for (let start = 0; start < queue.length; start += batchSize) {
      const batch = queue.slice(start, start + batchSize);
      const outcomes = await engine.runBatch(
        batch.map(({ event }, i) => ({ id: String(i), event })),
        async (event) => (runs[batch.find((delivery) => delivery.event === event)!.logical]!++, 'ok'),
      );
      outcomes.forEach((outcome, i) => outcome.status === 'failed' && failed.push(batch[i]!));
    }
    queue = failed;
  }
}

describe('generated streams through the engine on the real stores', () => {
  for (const store of ['redis', 'postgres', 'dynamodb'] as const) {
    for (const [name, strategy] of [
      ['stateWindow', byState],
      ['anyOf(eventId, stateWindow)', byIdOrState],
    ] as const) {
      for (const mode of ['one by one', 'in SQS batches'] as const) {
        it(`${store}, ${name}, ${mode}: every logical event runs exactly once`, { timeout: 60_000 }, async () => {
          await fc.assert(
            fc.asyncProperty(stateStreams(idPrefix), async ({ logicalEvents, deliveries, batchSize }) => {
              const engine = new IdempotencyEngine<StateEvent, string>({ store: stores[store](), strategy: strategy() as never });
              const runs = new Array<number>(logicalEvents).fill(0);
              await deliver(engine, deliveries, mode === 'one by one' ? undefined : batchSize, runs);
              expect(runs).toEqual(new Array(logicalEvents).fill(1));
            }),
            { numRuns: 15 },
          );
        });
      }
    }

    it(`${store}, eventId, in SQS batches: every delivery id runs exactly once (a re-send with a new id is its own event here)`, { timeout: 60_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(stateStreams(idPrefix), async ({ deliveries, batchSize }) => {
          const engine = new IdempotencyEngine<StateEvent, string>({ store: stores[store](), strategy: eventId() as never });
          const ids = [...new Set(deliveries.map(({ event }) => event.id))];
          const runs = new Array<number>(ids.length).fill(0);
          await deliver(engine, deliveries.map(({ event }) => ({ logical: ids.indexOf(event.id), event })), batchSize, runs);
          expect(runs).toEqual(new Array(ids.length).fill(1));
        }),
        { numRuns: 15 },
      );
    });
  }
});
