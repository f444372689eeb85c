import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { IdempotencyStoreError, type IdempotencyRecord, type RecordStatus } from '@idemkit/core';
import { FIELDS, type TableLayout } from './layout.js';

/** What the `status` attribute can hold: a record's status, or a released claim's tombstone. */
export type StoredStatus = RecordStatus | 'released';

/** Status of a released claim: the item stays so the next claim continues its fencing token. */
export const RELEASED: StoredStatus = 'released';

type Item = Record<string, AttributeValue>;

/**
 * The live record an item holds, or undefined when there is none: no item, a released
 * tombstone, or a record past `expiresAt` that TTL has not deleted yet.
 */
export function liveRecord(item: Item | undefined, layout: TableLayout, now: number): IdempotencyRecord | undefined {
  if (item === undefined || Object.keys(item).length === 0) return undefined;
  const status = readString(item, FIELDS.status, layout);
  if (status === RELEASED) return undefined;
  const record = toRecord(item, layout);
  return record.expiresAt > now ? record : undefined;
}

/** Reads a record from an item idemkit wrote; anything else sharing the table is a store error. */
export function toRecord(item: Item, layout: TableLayout): IdempotencyRecord {
  const status = readString(item, FIELDS.status, layout);
  if (status !== 'in_progress' && status !== 'completed') {
    throw malformed(item, layout, `status "${status}" is not a record status`);
  }
  const record: IdempotencyRecord = {
    key: readString(item, layout.partitionKey, layout),
    status,
    fencingToken: readNumber(item, FIELDS.fencingToken, layout),
    leaseExpiresAt: readNumber(item, FIELDS.leaseExpiresAt, layout),
    expiresAt: readNumber(item, FIELDS.expiresAt, layout),
    claimedAt: readNumber(item, FIELDS.claimedAt, layout),
  };
  const fingerprint = item[FIELDS.fingerprint];
  if (fingerprint !== undefined) record.fingerprint = readString(item, FIELDS.fingerprint, layout);
  const result = item[FIELDS.result];
  if (result !== undefined) record.result = readString(item, FIELDS.result, layout);
  const windowAnchor = item[FIELDS.windowAnchor];
  if (windowAnchor !== undefined) record.windowAnchor = readNumber(item, FIELDS.windowAnchor, layout);
  return record;
}

/** A number attribute value; DynamoDB carries numbers as decimal text. */
export function numberValue(value: number): AttributeValue {
  return { N: String(value) };
}

/** A string attribute value; the empty string is kept (DynamoDB allows it outside keys). */
export function stringValue(value: string): AttributeValue {
  return { S: value };
}

function readString(item: Item, attribute: string, layout: TableLayout): string {
  const value = item[attribute]?.S;
  if (value === undefined) throw malformed(item, layout, `attribute "${attribute}" is missing or not a string`);
  return value;
}

function readNumber(item: Item, attribute: string, layout: TableLayout): number {
  const text = item[attribute]?.N;
  const value = text === undefined ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw malformed(item, layout, `attribute "${attribute}" is missing or not a number`);
  return value;
}

function malformed(item: Item, layout: TableLayout, problem: string): IdempotencyStoreError {
  const key = item[layout.partitionKey]?.S ?? '?';
  return new IdempotencyStoreError(
    'dynamodb',
    `item "${key}" in table "${layout.tableName}" is not an idemkit record: ${problem}`,
    { retryable: false },
  );
}
