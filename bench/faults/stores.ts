import type { IdempotencyStore } from '@idemkit/core';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { PostgresStore } from '@idemkit/postgres';
import { storeFromUrl } from '@idemkit/eventbridge';
import { RedisStore } from '@idemkit/redis';
import { Redis } from 'ioredis';
import { localDynamoDBClient } from '../lib/dynamodb-local.js';
import { newPool } from '../lib/pg.js';
import { CuttableProxy } from './tcp-proxy.js';
import type { WorkerConfig } from './types.js';

/** Table of idemkit records in the run's schema (Postgres store). */
export const PG_STORE_TABLE = 'idemkit_records';

/** How the coordinator recognises a worker's store connections, to cut them and nothing else. */
export function storeConnectionName(runId: string, worker: string): string {
  return `${runId}_store_${worker}`;
}

/**
 * A store under test as a worker opens it: its own connections, named so they can be cut, all
 * through the worker's own proxy, which loses a reply when the worker asks it to.
 */
export interface WorkerStore {
  store: IdempotencyStore;
  proxy: CuttableProxy;
  close(): Promise<void>;
}

/** Where the worker's store lives, and the port to assume when its URL names none. */
function upstreamOf(config: WorkerConfig): { url: string; defaultPort: number } {
  if (config.store === 'redis') return { url: config.redisUrl, defaultPort: 6379 };
  if (config.store === 'postgres') return { url: config.databaseUrl, defaultPort: 5432 };
  return { url: config.dynamodbEndpoint!, defaultPort: 80 };
}

/** Opens the worker's store with default options, as a user would; `onError` counts client-level errors. */
export async function openWorkerStore(config: WorkerConfig, onError: (what: string) => void): Promise<WorkerStore> {
  const upstream = upstreamOf(config);
  const proxy = await CuttableProxy.start(upstream.url, upstream.defaultPort);
  const opened = await openThrough(config, proxy.rewrite(upstream.url), onError);
  return { ...opened, proxy, close: () => opened.close().finally(() => proxy.close()) };
}

async function openThrough(config: WorkerConfig, url: string, onError: (what: string) => void): Promise<Omit<WorkerStore, 'proxy'>> {
  if (config.coldStartMigrate) return openMigrating(config, url);
  const name = storeConnectionName(config.runId, config.worker);
  switch (config.store) {
    case 'redis': {
      // ioredis reconnects after CLIENT KILL and re-sends commands that had no reply yet.
      const client = new Redis(url, { connectionName: name });
      client.on('error', () => onError('redis client error'));
      return { store: new RedisStore({ client, prefix: config.runId }), close: async () => void client.disconnect() };
    }
    case 'postgres': {
      const pool = newPool({ connectionString: url, max: 2, application_name: name });
      // A terminated idle connection errors on the pool; without a listener that would crash the worker.
      pool.on('error', () => onError('postgres idle connection lost'));
      return { store: new PostgresStore({ client: pool, schema: config.schema, table: PG_STORE_TABLE }), close: () => pool.end() };
    }
    case 'dynamodb': {
      // Through the coordinator's proxy: the SDK retries a request whose connection was cut.
      const client = localDynamoDBClient(url.replace(/\/$/, ''));
      return { store: new DynamoDBStore({ client, tableName: config.dynamodbTable! }), close: async () => client.destroy() };
    }
  }
}

/**
 * A Postgres worker's cold start as a user writes it: `IDEMKIT_STORE=postgres://…?migrate=true`,
 * migrating the run's schema while other workers migrate too, or already claim. Its pool is the
 * URL's own, so the coordinator's cuts (by application name) do not reach it; its proxy does.
 */
async function openMigrating(config: WorkerConfig, url: string): Promise<Omit<WorkerStore, 'proxy'>> {
  const withParams = new URL(url);
  withParams.searchParams.set('schema', config.schema);
  withParams.searchParams.set('table', PG_STORE_TABLE);
  withParams.searchParams.set('migrate', 'true');
  // The URL takes no application name; pg falls back to PGAPPNAME, which the coordinator's cuts match.
  process.env['PGAPPNAME'] = storeConnectionName(config.runId, config.worker);
  const store = await storeFromUrl(withParams.toString());
  return { store, close: () => store.close() };
}
