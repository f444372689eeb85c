import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@idemkit/core';
import { DynamoDBStore, type DynamoDBStoreOptions } from '../src/index.js';

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
// Nothing here may reach AWS: every check happens before a request.
const mock = mockClient(client);
afterEach(() => expect(mock.calls()).toEqual([]));

function configError(options: Partial<DynamoDBStoreOptions>): ConfigError {
  try {
    new DynamoDBStore({ client, tableName: 't', ...options } as DynamoDBStoreOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('DynamoDBStore options', () => {
  it('names the store and the table', () => {
    const store = new DynamoDBStore({ client, tableName: 'idempotency' });
    expect(store.name).toBe('dynamodb');
    expect(store.tableName).toBe('idempotency');
  });

  it.each<[string, Partial<DynamoDBStoreOptions>]>([
    ['client', { client: undefined as unknown as DynamoDBClient }],
    ['tableName', { tableName: '' }],
    ['partitionKey', { partitionKey: '' }],
    ['sortKey.value', { sortKey: { name: 'sk', value: '' } }],
    ['concurrency', { concurrency: 0 }],
    ['concurrency', { concurrency: 2.5 }],
    ['partitionKey', { partitionKey: 'fence' }],
    ['ttlAttribute', { ttlAttribute: 'vexp' }],
    ['ttlAttribute', { ttlAttribute: '@u' }],
    ['sortKey.name', { sortKey: { name: '@sk', value: 'x' } }],
    ['sortKey.name', { sortKey: { name: 'id', value: 'x' } }],
    ['ttlAttribute', { partitionKey: 'pk', ttlAttribute: 'pk' }],
  ])('rejects a bad %s', (field, options) => {
    expect(configError(options).field).toBe(field);
  });

  it('rejects a key longer than DynamoDB accepts before any request', async () => {
    const store = new DynamoDBStore({ client, tableName: 't' });
    await expect(store.claim({ key: 'k'.repeat(2049), leaseMs: 1, retentionMs: 1 })).rejects.toMatchObject({ field: 'key' });
  });

  it('rejects a batch with a bad request before sending any of it', async () => {
    const store = new DynamoDBStore({ client, tableName: 't' });
    const good = { key: 'k', leaseMs: 1, retentionMs: 1 };
    await expect(store.claimMany([good, { ...good, key: 'k'.repeat(2049) }])).rejects.toMatchObject({ field: 'key' });
    await expect(store.claimMany([good, { ...good, leaseMs: 0 }])).rejects.toMatchObject({ field: 'leaseMs' });
  });

  it('rejects a bad completion before any request', async () => {
    const store = new DynamoDBStore({ client, tableName: 't' });
    await expect(store.complete({ key: 'k', fencingToken: 1, retentionMs: 0 })).rejects.toMatchObject({ field: 'retentionMs' });
  });
});
