import { FIELDS, MAX_KEY_BYTES, type TableLayout } from './layout.js';

/** DynamoDB's item size limit: 400 KB, counting attribute names and values in UTF-8. */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * Room kept for the fingerprint, which `complete` cannot see without a read. A SHA-256
 * fingerprint takes 64 bytes in hex; a larger one is caught by DynamoDB itself.
 */
export const FINGERPRINT_ALLOWANCE_BYTES = 256;

/** Upper bound of a number's size: DynamoDB stores up to 38 digits in at most 21 bytes. */
const MAX_NUMBER_BYTES = 21;

const NUMBER_FIELDS = [FIELDS.fencingToken, FIELDS.leaseExpiresAt, FIELDS.expiresAt, FIELDS.claimedAt, FIELDS.windowAnchor];

/** UTF-8 length of a string, as DynamoDB counts it. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Most bytes of result JSON a completed item for `key` can hold: 400 KB minus an upper bound
 * of every other attribute (names and values) the item may carry.
 */
export function maxResultBytesFor(layout: TableLayout, keyBytes: number): number {
  return MAX_ITEM_BYTES - itemBytesWithoutResult(layout, keyBytes);
}

/** {@link maxResultBytesFor} the longest key DynamoDB accepts: a limit that holds for every key. */
export function maxResultBytesForAnyKey(layout: TableLayout): number {
  return maxResultBytesFor(layout, MAX_KEY_BYTES);
}

function itemBytesWithoutResult(layout: TableLayout, keyBytes: number): number {
  let bytes = utf8Bytes(layout.partitionKey) + keyBytes;
  if (layout.sortKey !== undefined) bytes += utf8Bytes(layout.sortKey.name) + utf8Bytes(layout.sortKey.value);
  bytes += utf8Bytes(FIELDS.status) + utf8Bytes('in_progress');
  for (const field of NUMBER_FIELDS) bytes += utf8Bytes(field) + MAX_NUMBER_BYTES;
  bytes += utf8Bytes(layout.ttlAttribute) + MAX_NUMBER_BYTES;
  bytes += utf8Bytes(FIELDS.fingerprint) + FINGERPRINT_ALLOWANCE_BYTES;
  bytes += utf8Bytes(FIELDS.result);
  return bytes;
}
