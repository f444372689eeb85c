// What a store holds per completed key, measured on the records the contenders wrote during the run.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** One contender's storage cost per completed key on one store. */
export interface StorageFigure {
  contender: string;
  /** Records the figure was measured on. */
  sampled: number;
  bytesPerKey: number;
  /** How it was measured, one short phrase for the table. */
  method: string;
}

/** The key count the figures are extrapolated to. */
export const EXTRAPOLATED_KEYS = 1_000_000;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * An item's size by DynamoDB's rules: each attribute's name in UTF-8 bytes plus its value;
 * strings in UTF-8 bytes, binary raw, numbers 1 byte per two significant digits plus 1, booleans
 * and nulls 1, lists and maps 3 bytes plus 1 per element.
 */
export function dynamoItemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueBytes(element), 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + utf8(name) + valueBytes(element), 0);
  return 0;
}

function numberBytes(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
