import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StoreOptions } from '@idemkit/core';

/**
 * A sort key with one static value, for single-table designs: every idemkit item in the
 * table carries `value` in the `name` attribute, next to your own entities.
 */
export interface DynamoDBSortKey {
  /** Name of the table's sort key attribute, e.g. `sk`. */
  name: string;
  /** The value every idemkit item gets, e.g. `idempotency`. */
  value: string;
}

/** Options for {@link DynamoDBStore}. */
export interface DynamoDBStoreOptions extends StoreOptions {
  /** Your client; idemkit never creates one, so region, credentials and retries stay yours. */
  client: DynamoDBClient;
  /** Name of the table that holds the records. */
  tableName: string;
  /**
   * Name of the table's partition key attribute (type `S`); it holds the idempotency key.
   * @default 'id'
   */
  partitionKey?: string;
  /** A static sort key for single-table designs; leave out for a table with a partition key only. */
  sortKey?: DynamoDBSortKey;
  /**
   * Name of the attribute DynamoDB TTL reads: `expiresAt` in epoch **seconds**, rounded up.
   * @default 'ttl'
   */
  ttlAttribute?: string;
  /**
   * Most single-item requests `claimMany` and `completeMany` keep in flight at once.
   * @default 10
   */
  concurrency?: number;
}

/** Options for {@link DynamoDBStore.createTable}. */
export interface CreateTableOptions {
  /**
   * On-demand (`PAY_PER_REQUEST`) suits spiky Lambda traffic; `PROVISIONED` uses the capacities below.
   * @default 'PAY_PER_REQUEST'
   */
  billingMode?: 'PAY_PER_REQUEST' | 'PROVISIONED';
  /**
   * Read capacity units, with `billingMode: 'PROVISIONED'` only.
   * @default 5
   */
  readCapacityUnits?: number;
  /**
   * Write capacity units, with `billingMode: 'PROVISIONED'` only.
   * @default 5
   */
  writeCapacityUnits?: number;
  /**
   * How long to wait for the table to become `ACTIVE`.
   * @default 120
   */
  maxWaitSeconds?: number;
}

/** What {@link DynamoDBStore.createTable} did. */
export interface CreateTableResult {
  /** False when the table already existed (it was left as it is). */
  created: boolean;
  /**
   * `enabled` when TTL is on for the TTL attribute; `unsupported` when the endpoint has no
   * TTL API (some emulators): records still count as absent past `expiresAt`, they just stay.
   */
  timeToLive: 'enabled' | 'unsupported';
}
