import { randomUUID } from 'node:crypto';
import {
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  UpdateItemCommand,
  ConditionalCheckFailedException,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { IdempotencyStoreError, keyInMessage } from '@idemkit/core';
import { DynamoDBStore } from '../src/index.js';
import { useTable } from './helpers.js';

const claimRequest = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });

async function storeError(action: Promise<unknown>): Promise<IdempotencyStoreError> {
  const error = await action.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(IdempotencyStoreError);
  return error as IdempotencyStoreError;
}

describe('errors from DynamoDB Local', () => {
  const table = useTable('errors');
  const { client } = table;

  it('a missing table says so, names the table and is not retryable', async () => {
    const tableName = `idemkit-missing-${randomUUID()}`;
    const store = new DynamoDBStore({ client, tableName });
    const actions = [() => store.claim(claimRequest('k')), () => store.get('k'), () => store.release('k', 1)];
    for (const action of actions) {
      const error = await storeError(action());
      expect(error.message).toBe(
        `[idemkit] [dynamodb] table "${tableName}" not found — create it with createTable() or see the README`,
      );
      expect(error.retryable).toBe(false);
      expect(error.store).toBe('dynamodb');
      expect((error.cause as Error).name).toBe('ResourceNotFoundException');
    }
  });

  it('rejected credentials are a non-retryable store error', async () => {
    const badClient = table.newClient({ credentials: { accessKeyId: 'not a key!', secretAccessKey: 'x' } });
    const store = new DynamoDBStore({ client: badClient, tableName: table.tableName });
    const error = await storeError(store.claim(claimRequest(`err:${randomUUID()}`)));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/AWS rejected the credentials \(UnrecognizedClientException/);
    expect((error.cause as Error).name).toBe('UnrecognizedClientException');
  });

  it('an unreachable endpoint is a retryable store error', async () => {
    const offline = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'idemkit', secretAccessKey: 'idemkit' },
      maxAttempts: 1,
    });
    const error = await storeError(new DynamoDBStore({ client: offline, tableName: 't' }).get('k'));
    offline.destroy();
    expect(error.retryable).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('an item that is not an idemkit record is reported, not misread', async () => {
    const key = `err:${randomUUID()}`;
    await client.send(new PutItemCommand({ TableName: table.tableName, Item: { id: { S: key }, owner: { S: 'someone else' } } }));
    const store = new DynamoDBStore({ client, tableName: table.tableName });
    const error = await storeError(store.claim(claimRequest(key)));
    expect(error.message).toContain(`item ${keyInMessage(key)} in table "${table.tableName}" is not an idemkit record`);
    expect(error.message).not.toContain(key);
    expect(error.retryable).toBe(false);
  });

  it('a table whose key schema differs from the options gives a hint', async () => {
    const store = new DynamoDBStore({ client, tableName: table.tableName, sortKey: { name: 'sk', value: 'x' } });
    const error = await storeError(store.claim(claimRequest(`err:${randomUUID()}`)));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/check partitionKey, sortKey and ttlAttribute/);
  });
});

describe('errors the emulator cannot produce (aws-sdk-client-mock)', () => {
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const mock = mockClient(client);
  const store = new DynamoDBStore({ client, tableName: 'idempotency' });
  afterEach(() => mock.reset());

  it.each(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'])(
    'throttling (%s) is a retryable store error with the cause attached',
    async (name) => {
      const cause =
        name === 'ProvisionedThroughputExceededException'
          ? new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} })
          : Object.assign(new Error('slow down'), { name, $metadata: { httpStatusCode: 400 } });
      mock.on(UpdateItemCommand).rejects(cause);
      const error = await storeError(store.claim(claimRequest('k')));
      expect(error.retryable).toBe(true);
      expect(error.cause).toBe(cause);
      expect(error.message).toBe(
        `[idemkit] [dynamodb] claim on table "idempotency" was throttled (${name}); retry later or raise the table's capacity`,
      );
    },
  );

  it.each(['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException'])(
    'bad credentials (%s) are a store error that is not retryable',
    async (name) => {
      const cause = Object.assign(new Error('nope'), { name, $metadata: { httpStatusCode: 400 } });
      mock.on(GetItemCommand).rejects(cause);
      const error = await storeError(store.get('k'));
      expect(error.retryable).toBe(false);
      expect(error.cause).toBe(cause);
      expect(error.message).toContain(`AWS rejected the credentials (${name}: nope)`);
    },
  );

  it('a server fault is retryable', async () => {
    mock.on(UpdateItemCommand).rejects(
      Object.assign(new Error('boom'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } }),
    );
    expect((await storeError(store.complete({ key: 'k', fencingToken: 1, retentionMs: 1_000 }))).retryable).toBe(true);
  });

  it('a refused claim without the old item (an endpoint without ReturnValuesOnConditionCheckFailure) says so', async () => {
    mock.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    const error = await storeError(store.claim(claimRequest('k')));
    expect(error.message).toMatch(/did not return the existing item/);
    expect(error.retryable).toBe(false);
  });
});
