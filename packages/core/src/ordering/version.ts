import { ConfigError } from '../errors.js';

/** A version of an entity: an event time or sequence number, or a tuple of them for ties. */
export type Version = number | string | readonly (number | string)[];

// Largest integer a version element may be: 2^53 − 1 fits in 14 hex digits.
const NUMBER_DIGITS = 14;

/**
 * Encodes a version as text whose byte order is the version's order, so every store compares
 * versions with its native string comparison (Lua `<`, `COLLATE "C"`, DynamoDB `<`).
 *
 * Each element becomes `n` + 14 hex digits for a non-negative safe integer, or `s` + the UTF-8 hex
 * of a string + `.`: `.` sorts below every hex digit, so `"ab"` < `"abc"`. Tuples compare element
 * by element; the text is ASCII, so it is safe in every store.
 * @throws {@link ConfigError} on field `version` for negative, fractional or unsafe numbers, or an empty tuple.
 * @example encodeVersion([1709806530000, 'evt-1']) < encodeVersion([1709806530000, 'evt-2']) // true
 */
export function encodeVersion(version: Version): string {
  const elements = Array.isArray(version) ? version : [version as number | string];
  if (elements.length === 0) throw new ConfigError('version', 'a version tuple needs at least one element');
  return elements.map(encodeElement).join('');
}

function encodeElement(element: number | string, index: number): string {
  if (typeof element === 'number') {
    if (!Number.isSafeInteger(element) || element < 0) {
      throw new ConfigError('version', `element ${index} must be a non-negative safe integer or a string, got ${String(element)}`);
    }
    return `n${element.toString(16).padStart(NUMBER_DIGITS, '0')}`;
  }
  if (typeof element === 'string') return `s${Buffer.from(element, 'utf8').toString('hex')}.`;
  throw new ConfigError('version', `element ${index} must be a number or a string, got ${element === null ? 'null' : typeof element}`);
}
