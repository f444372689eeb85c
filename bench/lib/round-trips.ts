import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CacheClient } from '@aws-lambda-powertools/idempotency/cache/types';
import type { Redis } from 'ioredis';
import type { Pool } from './pg.js';

// Round trips are counted at the client, where they cost: one request sent and one reply awaited.
// Every counter has the same shape so a scenario can read any contender's the same way.

/** How many round trips a client has made. */
export interface RoundTripCounter {
  readonly count: number;
}

class Counter implements RoundTripCounter {
  count = 0;
}

/**
 * Counts an ioredis client's round trips: each command sent on its own is one; a pipeline or
 * MULTI is one when it is flushed (its commands reach `sendCommand` with the pipeline's stream).
 */
export function countIoredis(client: Redis): RoundTripCounter {
  const counter = new Counter();
  const sendCommand = client.sendCommand.bind(client);
  client.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], stream?: unknown) => {
    if (stream === undefined) counter.count += 1;
    return (sendCommand as (command: unknown, stream?: unknown) => unknown)(command, stream);
  }) as Redis['sendCommand'];
  for (const method of ['pipeline', 'multi'] as const) {
    const original = client[method].bind(client) as (...args: unknown[]) => { exec: (...args: unknown[]) => unknown };
    (client as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const batch = original(...args);
      const exec = batch.exec.bind(batch);
      batch.exec = (...execArgs: unknown[]) => {
        counter.count += 1;
        return exec(...execArgs);
      };
      return batch;
    };
  }
  return counter;
}

/** Wraps the cache client Powertools' `CachePersistenceLayer` takes: each get, set and del is one command. */
export function countCacheClient(client: CacheClient): { client: CacheClient; counter: RoundTripCounter } {
  const counter = new Counter();
  return {
    counter,
    client: {
      get: (name) => ((counter.count += 1), client.get(name)),
      set: (name, value, options) => ((counter.count += 1), client.set(name, value, options)),
      del: (keys) => ((counter.count += 1), client.del(keys)),
    },
  };
}

/** Counts a pg Pool's statements: each `query` call is one round trip (no pipelining in pg). */
export function countPg(pool: Pool): RoundTripCounter {
  const counter = new Counter();
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    counter.count += 1;
    return query(...args);
  };
  return counter;
}

/**
 * Counts the HTTP requests an AWS SDK client puts on the wire. The middleware sits after the
 * retry step, so a retried request counts each time it is sent.
 */
export function countDynamoDB(client: DynamoDBClient): RoundTripCounter {
  const counter = new Counter();
  client.middlewareStack.add(
    (next) => async (args) => {
      counter.count += 1;
      return next(args);
    },
    { step: 'deserialize', name: 'benchRoundTripCounter', priority: 'low' },
  );
  return counter;
}
