import { DeleteTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@idemkit/core';
import { DynamoDBStore } from '../src/index.js';
import { localClient, randomTableName } from './helpers.js';

const client = localClient();
const created: string[] = [];
afterAll(async () => {
  await Promise.all(created.map((TableName) => client.send(new DeleteTableCommand({ TableName }))));
  client.destroy();
});

const newStore = (options: Partial<ConstructorParameters<typeof DynamoDBStore>[0]> = {}) => {
  const tableName = randomTableName('create');
  created.push(tableName);
  return new DynamoDBStore({ client, tableName, ...options });
};

describe('createTable', () => {
  it('creates an on-demand table keyed on "id", ACTIVE, with TTL on "ttl"', async () => {
    const store = newStore();
    expect(await store.createTable()).toEqual({ created: true, timeToLive: 'enabled' });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: store.tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(Table?.AttributeDefinitions).toEqual([{ AttributeName: 'id', AttributeType: 'S' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: store.tableName }));
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
  });

  it('creates a single-table layout with a sort key and a custom TTL attribute, provisioned', async () => {
    const store = newStore({ partitionKey: 'pk', sortKey: { name: 'sk', value: 'idem' }, ttlAttribute: 'expires' });
    await store.createTable({ billingMode: 'PROVISIONED', readCapacityUnits: 2, writeCapacityUnits: 3 });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: store.tableName }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 2, WriteCapacityUnits: 3 });
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: store.tableName }));
    expect(TimeToLiveDescription?.AttributeName).toBe('expires');
  });

  it('leaves an existing table alone and reports it', async () => {
    const store = newStore();
    await store.createTable();
    expect(await store.createTable()).toEqual({ created: false, timeToLive: 'enabled' });
  });

  it('refuses a table whose TTL is on another attribute', async () => {
    const store = newStore();
    await store.createTable();
    const other = new DynamoDBStore({ client, tableName: store.tableName, ttlAttribute: 'expiry' });
    const error = await other.createTable().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('ttlAttribute');
  });

  it('reports TTL as unsupported on an endpoint without the TTL API', async () => {
    const store = newStore();
    const unsupporting = localClient();
    unsupporting.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DescribeTimeToLiveCommand' || context.commandName === 'UpdateTimeToLiveCommand') {
          throw Object.assign(new Error('Unknown operation'), { name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'noTimeToLive' },
    );
    const result = await new DynamoDBStore({ client: unsupporting, tableName: store.tableName }).createTable();
    unsupporting.destroy();
    expect(result).toEqual({ created: true, timeToLive: 'unsupported' });
  });

  it('rejects capacity units with on-demand billing', async () => {
    const store = new DynamoDBStore({ client, tableName: randomTableName('never-created') });
    const error = await store.createTable({ writeCapacityUnits: 5 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('billingMode');
  });

  it('accepts a table whose TTL was already enabled for the same attribute', async () => {
    const store = newStore();
    await store.createTable();
    await expect(
      client.send(new UpdateTimeToLiveCommand({ TableName: store.tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: 'ttl' } })),
    ).rejects.toThrow(/already enabled/);
    expect((await store.createTable()).timeToLive).toBe('enabled');
  });
});
