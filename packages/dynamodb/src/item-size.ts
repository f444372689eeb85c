import { ITEM, MAX_KEY_BYTES, SLOT, type TableLayout } from './layout.js';

/** DynamoDB's item size limit: 400 KB, counting attribute names and values in UTF-8. */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * Room kept for the fingerprint, which `complete` cannot see without a read. A SHA-256
 * fingerprint takes 64 bytes in hex; a larger one is caught by DynamoDB itself.
 */
export const FINGERPRINT_ALLOWANCE_BYTES = 256;

/** Upper bound of a number's size: DynamoDB stores up to 38 digits in at most 21 bytes. */
const MAX_NUMBER_BYTES = 21;
/** An owner is at most 128 UTF-16 code units (core's validation), at most 3 UTF-8 bytes each. */
const MAX_OWNER_BYTES = 128 * 3;
/** Longest slot name: `@` and a bucket or `@t` and a token (safe integers have at most 16 digits). */
const MAX_SLOT_NAME_BYTES = 2 + 17;
/** A nonce: 6 random bytes in base64url. */
export const NONCE_BYTES = 8;

/** UTF-8 length of a string, as DynamoDB counts it. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Most bytes of result JSON a completed occurrence of `key` can hold when it is its item's only
 * occurrence: 400 KB minus an upper bound of everything else the item may carry. The other live
 * occurrences of a windowed key share the same 400 KB (see docs/store-dynamodb.md).
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
  for (const name of [ITEM.fence, ITEM.window, ITEM.prune, layout.ttlAttribute]) bytes += utf8Bytes(name) + MAX_NUMBER_BYTES;
  // The slot: its name, the map's 3 bytes, and per field 1 byte + its one-letter name + its value.
  bytes += MAX_SLOT_NAME_BYTES + 3 + Object.keys(SLOT).length * 2;
  bytes += 1 /* status */ + 5 * MAX_NUMBER_BYTES /* token, lease, expiry, claimedAt, anchor */;
  bytes += FINGERPRINT_ALLOWANCE_BYTES + MAX_OWNER_BYTES + NONCE_BYTES;
  return bytes;
}
