import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { utf8Bytes } from '../src/item-size.js';
import type { Item } from '../src/marshal.js';

// DynamoDB's item-size rules, the tests' measuring instrument: item-limits.test.ts holds them
// against DynamoDB Local's 400 KB limit to the byte, and storage-cost.test.ts measures with them
// the figures docs/store-dynamodb.md quotes.

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

/** DynamoDB's size of an item: every attribute's name and value. */
export function itemBytes(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8Bytes(name) + valueBytes(value), 0);
}
