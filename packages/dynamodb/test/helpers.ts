import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, inject } from 'vitest';
import { DynamoDBStore, type DynamoDBStoreOptions } from '../src/index.js';

/** A client for the test endpoint, with the fake credentials DynamoDB Local accepts. */
export function localClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'idemkit', secretAccessKey: 'idemkit' },
    ...config,
  });
}

/** A random table name, so runs against a shared endpoint never collide. */
export function randomTableName(label: string): string {
  return `idemkit-${label}-${randomUUID()}`;
}

/** Creates a fresh table for a layout; `drop` deletes it and closes the admin client. */
export async function createTestTable(
  layout: Omit<DynamoDBStoreOptions, 'client' | 'tableName' | 'clock'> = {},
  label = 'test',
): Promise<{ tableName: string; drop: () => Promise<void> }> {
  const client = localClient();
  const tableName = randomTableName(label);
  await new DynamoDBStore({ client, tableName, ...layout }).createTable();
  return {
    tableName,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}

/**
 * This test file's own table (created before its tests, dropped after them) and a client on it,
 * destroyed after the tests too, with the other clients the file makes through `newClient`.
 */
export function useTable(label: string, layout: Omit<DynamoDBStoreOptions, 'client' | 'tableName' | 'clock'> = {}) {
  let table: Awaited<ReturnType<typeof createTestTable>> | undefined;
  const clients: DynamoDBClient[] = [];
  const newClient = (config: DynamoDBClientConfig = {}) => {
    const client = localClient(config);
    clients.push(client);
    return client;
  };
  const client = newClient();
  beforeAll(async () => {
    table = await createTestTable(layout, label);
  });
  afterAll(async () => {
    for (const made of clients) made.destroy();
    await table?.drop();
  });
  return {
    client,
    newClient,
    get tableName(): string {
      if (table === undefined) throw new Error('the table is created in beforeAll');
      return table.tableName;
    },
  };
}

/** One HTTP request as the SDK sent it: which operation, and the key and condition of a single-item one. */
export interface SentRequest {
  command: string;
  key?: string;
  condition?: string;
}

/**
 * Records every request the client puts on the wire (after its retry loop, so retries count),
 * and how many were in flight at most.
 */
export function recordRequests(client: DynamoDBClient): { sent: SentRequest[]; maxInFlight: () => number; reset: () => void } {
  const sent: SentRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: { id?: { S?: string } }; ConditionExpression?: string };
      const key = input.Key?.id?.S;
      const condition = input.ConditionExpression;
      sent.push({ command: String(context.commandName), ...(key === undefined ? {} : { key }), ...(condition === undefined ? {} : { condition }) });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await next(args);
      } finally {
        inFlight -= 1;
      }
    },
    { step: 'deserialize', name: 'idemkitRequestRecorder', priority: 'low' },
  );
  return {
    sent,
    maxInFlight: () => maxInFlight,
    reset: () => {
      sent.length = 0;
      maxInFlight = 0;
    },
  };
}
