import type { IdempotencyStore } from '@idemkit/core';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { PostgresStore } from '@idemkit/postgres';
import { RedisStore } from '@idemkit/redis';
import { Redis } from 'ioredis';
import { localDynamoDBClient } from '../lib/dynamodb-local.js';
import { newPool } from '../lib/pg.js';
import type { WorkerConfig } from './types.js';

/** Table of idemkit records in the run's schema (Postgres store). */
export const PG_STORE_TABLE = 'idemkit_records';

/** How the coordinator recognises a worker's store connections, to cut them and nothing else. */
export function storeConnectionName(runId: string, worker: string): string {
  return `${runId}_store_${worker}`;
}

/** A store under test as a worker opens it: its own connections, named so they can be cut. */
export interface WorkerStore {
  store: IdempotencyStore;
  close(): Promise<void>;
}

/** Opens the worker's store with default options, as a user would; `onError` counts client-level errors. */
export function openWorkerStore(config: WorkerConfig, onError: (what: string) => void): WorkerStore {
  const name = storeConnectionName(config.runId, config.worker);
  switch (config.store) {
    case 'redis': {
      // ioredis reconnects after CLIENT KILL and re-sends commands that had no reply yet.
      const client = new Redis(config.redisUrl, { connectionName: name });
      client.on('error', () => onError('redis client error'));
      return { store: new RedisStore({ client, prefix: config.runId }), close: async () => void client.disconnect() };
    }
    case 'postgres': {
      const pool = newPool({ connectionString: config.databaseUrl, max: 2, application_name: name });
      // A terminated idle connection errors on the pool; without a listener that would crash the worker.
      pool.on('error', () => onError('postgres idle connection lost'));
      return { store: new PostgresStore({ client: pool, schema: config.schema, table: PG_STORE_TABLE }), close: () => pool.end() };
    }
    case 'dynamodb': {
      // Through the coordinator's proxy: the SDK retries a request whose connection was cut.
      const client = localDynamoDBClient(config.dynamodbEndpoint!);
      return { store: new DynamoDBStore({ client, tableName: config.dynamodbTable! }), close: async () => client.destroy() };
    }
  }
}
