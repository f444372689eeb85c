import { ConfigError } from '../errors.js';

/** One element of a version: a whole number (an event time in ms, a sequence number) or text. */
export type VersionElement = number | bigint | string;

/** A version of an entity: an event time or sequence number, or a tuple of them for ties. */
export type Version = VersionElement | readonly VersionElement[];

// Integers up to 2^53 − 1 fit in 14 hex digits. Larger ones (bigint sequence numbers: Kinesis,
// DynamoDB Streams) carry their hex length first, so a longer number sorts after a shorter one.
const NUMBER_DIGITS = 14;
const MAX_BIG_DIGITS = 255;

/**
 * Encodes a version as text whose byte order is the version's order, so every store compares
 * versions with its native string comparison (Lua `<`, `COLLATE "C"`, DynamoDB `<`).
 *
 * Each element becomes `n` + 14 hex digits for a non-negative safe integer; `o` + two hex digits
 * of length + the hex digits for a larger bigint (`n` < `o`: every such number sorts after every
 * safe one); or `s` + the UTF-8 hex of a string + `.`: `.` sorts below every hex digit, so
 * `"ab"` < `"abc"`. Numbers sort before strings. Tuples compare element by element; the text is
 * ASCII, so it is safe in every store.
 * @throws {@link ConfigError} on field `version` for negative, fractional or unsafe numbers, or an empty tuple.
 * @example encodeVersion([1709806530000, 'evt-1']) < encodeVersion([1709806530000, 'evt-2']) // true
 */
export function encodeVersion(version: Version): string {
  const elements: readonly VersionElement[] = Array.isArray(version) ? version : [version as VersionElement];
  if (elements.length === 0) throw new ConfigError('version', 'a version tuple needs at least one element');
  return elements.map(encodeElement).join('');
}

function encodeElement(element: VersionElement, index: number): string {
  if (typeof element === 'bigint') {
    if (element < 0n) throw new ConfigError('version', `element ${index} must be non-negative, got ${element}`);
    if (element <= BigInt(Number.MAX_SAFE_INTEGER)) return encodeElement(Number(element), index);
    const hex = element.toString(16);
    if (hex.length > MAX_BIG_DIGITS) throw new ConfigError('version', `element ${index} has more than ${MAX_BIG_DIGITS} hex digits`);
    return `o${hex.length.toString(16).padStart(2, '0')}${hex}`;
  }
  if (typeof element === 'number') {
    if (!Number.isSafeInteger(element) || element < 0) {
      throw new ConfigError('version', `element ${index} must be a non-negative safe integer or a string, got ${String(element)}`);
    }
    return `n${element.toString(16).padStart(NUMBER_DIGITS, '0')}`;
  }
  if (typeof element === 'string') return `s${Buffer.from(element, 'utf8').toString('hex')}.`;
  throw new ConfigError('version', `element ${index} must be a number or a string, got ${element === null ? 'null' : typeof element}`);
}

/**
 * Reads a version encoded by {@link encodeVersion} back as its elements (always a tuple: `5` and
 * `[5]` encode alike), for hooks and messages that show which version was applied.
 * @throws SyntaxError when `text` is not an encoded version.
 * @example decodeVersion(encodeVersion([1709806530000, 'evt-1'])) // [1709806530000, 'evt-1']
 */
export function decodeVersion(text: string): VersionElement[] {
  const elements: VersionElement[] = [];
  let at = 0;
  const take = (length: number) => {
    const part = text.slice(at, at + length);
    if (part.length !== length || !/^[0-9a-f]*$/.test(part)) throw new SyntaxError(`not an encoded version: ${JSON.stringify(text)}`);
    at += length;
    return part;
  };
  while (at < text.length) {
    const tag = text[at++];
    if (tag === 'n') elements.push(parseInt(take(NUMBER_DIGITS), 16));
    else if (tag === 'o') elements.push(BigInt(`0x${take(parseInt(take(2), 16))}`));
    else if (tag === 's') {
      const end = text.indexOf('.', at);
      if (end < 0) throw new SyntaxError(`not an encoded version: ${JSON.stringify(text)}`);
      elements.push(Buffer.from(take(end - at), 'hex').toString('utf8'));
      at++;
    } else throw new SyntaxError(`not an encoded version: ${JSON.stringify(text)}`);
  }
  if (elements.length === 0) throw new SyntaxError('not an encoded version: empty');
  return elements;
}
