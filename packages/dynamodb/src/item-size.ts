import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ITEM, MAX_KEY_BYTES, SLOT, type TableLayout } from './layout.js';
import type { Item } from './marshal.js';

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
 * DynamoDB's size of a number: one byte plus one per pair of significant decimal digits, the
 * pairs aligned on the decimal point (leading and trailing zero pairs cost nothing), one more
 * byte when negative.
 */
export function numberBytes(text: string): number {
  const negative = text.startsWith('-');
  const [whole = '', fraction = ''] = plainDecimal(negative ? text.slice(1) : text).split('.');
  const digits = (whole.length % 2 === 1 ? `0${whole}` : whole) + (fraction.length % 2 === 1 ? `${fraction}0` : fraction);
  const pairs = digits.match(/../g) ?? [];
  let first = 0;
  let last = pairs.length;
  while (first < last && pairs[first] === '00') first++;
  while (last > first && pairs[last - 1] === '00') last--;
  return Math.max(1, last - first) + 1 + (negative ? 1 : 0);
}

/** Plain decimal digits of a non-negative number's text (expanding exponent notation). */
function plainDecimal(text: string): string {
  if (!/e/i.test(text)) return text;
  return Number(text).toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
}

/** DynamoDB's size of an attribute value (strings, numbers, booleans, null, maps, lists). */
export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, nested]) => sum + 1 + utf8Bytes(name) + valueBytes(nested), 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, nested) => sum + 1 + valueBytes(nested), 0);
  throw new TypeError('valueBytes: unsupported attribute type');
}

/**
 * DynamoDB's size of an item: every attribute's name and value. The tests hold these rules against
 * DynamoDB Local's 400 KB limit to the byte (item-limits.test.ts); the bench measures with them.
 */
export function itemBytes(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8Bytes(name) + valueBytes(value), 0);
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
