import { describe, expect, it } from 'vitest';
import { runStoreConformance, type StoreFactory } from '@idemkit/core/testing';
import { DynamoDBStore, type DynamoDBStoreOptions } from '../src/index.js';
import { localClient, useTable } from './helpers.js';

type Layout = Omit<DynamoDBStoreOptions, 'client' | 'tableName' | 'clock'>;

/** Every store gets its own DynamoDBClient (its own connections), so the race is a real one. */
function suite(name: string, layout: Layout, concurrentClaimers: number): void {
  const table = useTable('conformance', layout);

  const factory: StoreFactory = ({ clock }) => {
    const client = localClient();
    return {
      store: new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now, ...layout }),
      close: () => client.destroy(),
    };
  };
  runStoreConformance({ describe, it, expect }, { name, factory, concurrentClaimers });
}

describe('default table layout (partition key "id")', () => {
  suite('DynamoDBStore on DynamoDB Local', {}, 50);
});

describe('single-table layout (custom partition key, static sort key, custom TTL attribute)', () => {
  suite(
    'DynamoDBStore on DynamoDB Local, single-table',
    { partitionKey: 'pk', sortKey: { name: 'sk', value: 'idemkit#record' }, ttlAttribute: 'expires_at_s' },
    10,
  );
});
