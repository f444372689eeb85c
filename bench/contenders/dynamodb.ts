import { createRequire } from 'node:module';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { localDynamoDBClient } from '../lib/dynamodb-local.js';
import { genesysEvent } from '../lib/events.js';
import { runId } from '../lib/env.js';
// The store's own implementation of DynamoDB's item-size rules (not exported from the package).
import { itemBytes } from '../../packages/dynamodb/src/item-size.js';
import { countDynamoDB, type RoundTripCounter } from '../lib/round-trips.js';
import { idemkitContender } from './idemkit.js';
import { powertoolsContender } from './powertools.js';
import { rawContender, type RawClaim, type RawCommands } from './raw.js';
import { RETENTION_SECONDS, type Contender, type StoreBench } from './types.js';

/** How long every contender sends new events to a fresh DynamoDB Local before anything is measured. */
const WARM_UP_MS = 8_000;

/** In-flight writes of a raw batch: DynamoDB has no conditional batch write, so a batch is parallel single writes. */
const BATCH_CONCURRENCY = 10;

/** idemkit, Powertools (DynamoDBPersistenceLayer) and raw PutItem/UpdateItem, each on its own table and client. */
export async function dynamodbBench(endpoint: string): Promise<StoreBench> {
  const name = runId('bench').replace(/_/g, '-');
  const tables = perContender((contender) => `${name}-${contender}`);
  const admin = localDynamoDBClient(endpoint);
  const clients = perContender(() => localDynamoDBClient(endpoint));
  const counters = perContender((contender) => countDynamoDB(clients[contender]));

  const store = new DynamoDBStore({ client: clients.idemkit, tableName: tables.idemkit });
  await store.createTable();
  await Promise.all([createIdTable(admin, tables.powertools), createIdTable(admin, tables.raw)]);

  const contenders = dynamodbContenders(clients, tables, counters, store);
  const cacheContenders = [
    idemkitContender('dynamodb', store, counters.idemkit, 'idemkit, localCache', 'each', true),
    powertoolsContender(
      'dynamodb',
      () => new DynamoDBPersistenceLayer({ tableName: tables.powertools, awsSdkV3Client: clients.powertools }),
      counters.powertools,
      'bench-cache',
      true,
    ),
  ];
  return {
    store: 'dynamodb',
    // DynamoDB Local starts right before this bench: its JIT compiles each request shape (PutItem,
    // UpdateItem on nested maps, …) only once it has seen enough of them, so the first seconds of
    // each contender would measure the JVM warming up rather than the store.
    async warmUp() {
      const until = Date.now() + WARM_UP_MS;
      while (Date.now() < until) for (const contender of contenders) for (let i = 0; i < 10; i++) await contender.handle(genesysEvent());
    },
    server: `DynamoDB Local from amplify-dynamodb-simulator ${simulatorVersion()}`,
    contenders,
    cacheContenders,
    storage: () =>
      Promise.all(
        (['idemkit', 'Powertools', 'raw'] as const).map(async (contender) => {
          const { Items = [] } = await admin.send(new ScanCommand({ TableName: tables[contender === 'Powertools' ? 'powertools' : contender], Limit: 1000 }));
          const bytes = Items.reduce((sum, item) => sum + itemBytes(item as Parameters<typeof itemBytes>[0]), 0);
          return { contender, sampled: Items.length, bytesPerKey: Items.length === 0 ? Number.NaN : bytes / Items.length, method: 'item size rules, scanned sample' };
        }),
      ),
    async close() {
      await Promise.all(Object.values(tables).map((TableName) => admin.send(new DeleteTableCommand({ TableName }))));
      for (const client of [admin, ...Object.values(clients)]) client.destroy();
    },
  };
}

/** The tables (or clients, counters) of the three contenders. */
export interface PerContender<T> {
  idemkit: T;
  powertools: T;
  raw: T;
}

/** One `T` per contender, made by `make` from the contender's name. */
export function perContender<T>(make: (contender: keyof PerContender<T>) => T): PerContender<T> {
  return { idemkit: make('idemkit'), powertools: make('powertools'), raw: make('raw') };
}

/**
 * idemkit, Powertools and raw on their own clients and tables, as every DynamoDB measurement
 * builds them (`store`: idemkit's, when the caller has made its table already). Nothing here
 * sends a request: the tables must exist before the first event, on a real endpoint.
 */
export function dynamodbContenders(
  clients: PerContender<DynamoDBClient>,
  tables: PerContender<string>,
  counters: PerContender<RoundTripCounter>,
  store = new DynamoDBStore({ client: clients.idemkit, tableName: tables.idemkit }),
): Contender[] {
  return [
    idemkitContender('dynamodb', store, counters.idemkit),
    powertoolsContender(
      'dynamodb',
      () => new DynamoDBPersistenceLayer({ tableName: tables.powertools, awsSdkV3Client: clients.powertools }),
      counters.powertools,
      'bench',
    ),
    rawContender('dynamodb', rawDynamoDBCommands(clients.raw, tables.raw), counters.raw),
  ];
}

/** A table keyed by `id` (S), the layout Powertools expects and the raw commands use. */
export async function createIdTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
}

/**
 * A conditional PutItem claims and, when the condition fails, returns the existing item in the
 * same response (`ReturnValuesOnConditionCheckFailure`); an UpdateItem completes.
 */
function rawDynamoDBCommands(client: DynamoDBClient, tableName: string): RawCommands {
  const claim = async (key: string): Promise<RawClaim> => {
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            id: { S: key },
            status: { S: 'in_progress' },
            ttl: { N: String(Math.ceil(Date.now() / 1000) + RETENTION_SECONDS) },
          },
          ConditionExpression: 'attribute_not_exists(id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { acquired: false, completed: error.Item?.['status']?.S === 'completed', result: error.Item?.['result']?.S };
    }
  };
  const complete = async (key: string, result: string) => {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { id: { S: key } },
        UpdateExpression: 'SET #status = :completed, #result = :result',
        ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
        ExpressionAttributeValues: { ':completed': { S: 'completed' }, ':result': { S: result } },
      }),
    );
  };
  return {
    claim,
    complete,
    release: async (key) => {
      await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: key } } }));
    },
    claimMany: (keys) => inParallel(keys, claim),
    completeMany: async (entries) => void (await inParallel(entries, ({ key, result }) => complete(key, result))),
  };
}

/** Maps with at most {@link BATCH_CONCURRENCY} calls in flight, results in input order. */
async function inParallel<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(BATCH_CONCURRENCY, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The version of the package that ships the DynamoDB Local jar (the jar itself does not say). */
function simulatorVersion(): string {
  const manifest = createRequire(import.meta.url)('amplify-dynamodb-simulator/package.json') as { version: string };
  return manifest.version;
}
