import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ConfigError } from '@idemkit/core';
import type { DynamoDBSortKey, DynamoDBStoreOptions } from './types.js';

/** Attribute names of a record's fields; fixed, so every idemkit table reads the same. */
export const FIELDS = {
  status: 'status',
  fencingToken: 'fencingToken',
  leaseExpiresAt: 'leaseExpiresAt',
  expiresAt: 'expiresAt',
  claimedAt: 'claimedAt',
  fingerprint: 'fingerprint',
  result: 'result',
  windowAnchor: 'windowAnchor',
} as const;

/** Where records live in the table: its name and the user-chosen key and TTL attributes. */
export interface TableLayout {
  tableName: string;
  partitionKey: string;
  sortKey?: DynamoDBSortKey;
  ttlAttribute: string;
}

/** DynamoDB's limit on a partition key value. */
export const MAX_KEY_BYTES = 2048;

/** Validates the table options and fills in defaults; a clash of attribute names is a ConfigError. */
export function resolveLayout(options: DynamoDBStoreOptions): TableLayout {
  requireName('tableName', options.tableName);
  const partitionKey = options.partitionKey ?? 'id';
  const ttlAttribute = options.ttlAttribute ?? 'ttl';
  requireName('partitionKey', partitionKey);
  requireName('ttlAttribute', ttlAttribute);
  if (options.sortKey !== undefined) {
    requireName('sortKey.name', options.sortKey.name);
    if (typeof options.sortKey.value !== 'string' || options.sortKey.value.length === 0) {
      throw new ConfigError('sortKey.value', 'must be a non-empty string');
    }
  }
  const taken = new Map<string, string>(Object.values(FIELDS).map((name) => [name, 'a record field']));
  const claims: Array<[string, string]> = [
    ['partitionKey', partitionKey],
    ...(options.sortKey === undefined ? [] : ([['sortKey.name', options.sortKey.name]] as Array<[string, string]>)),
    ['ttlAttribute', ttlAttribute],
  ];
  for (const [field, name] of claims) {
    const holder = taken.get(name);
    if (holder !== undefined) throw new ConfigError(field, `attribute "${name}" is already used by ${holder}`);
    taken.set(name, field);
  }
  const layout: TableLayout = { tableName: options.tableName, partitionKey, ttlAttribute };
  if (options.sortKey !== undefined) layout.sortKey = { ...options.sortKey };
  return layout;
}

/** The primary key of a record's item. */
export function itemKey(layout: TableLayout, key: string): Record<string, AttributeValue> {
  const itemKey: Record<string, AttributeValue> = { [layout.partitionKey]: { S: key } };
  if (layout.sortKey !== undefined) itemKey[layout.sortKey.name] = { S: layout.sortKey.value };
  return itemKey;
}

/** Rejects a key DynamoDB would refuse, before any request. */
export function assertKeyFits(key: string): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new ConfigError('key', `is ${bytes} bytes; a DynamoDB partition key holds at most ${MAX_KEY_BYTES}`);
  }
}

function requireName(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(field, 'must be a non-empty string');
}
