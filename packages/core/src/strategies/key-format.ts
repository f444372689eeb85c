import { sha256Base64url } from '../internal/hash.js';
import type { KeyPart } from './types.js';

/** Longest key a strategy produces (before the engine's namespace), so every store accepts it. */
export const MAX_KEY_LENGTH = 200;

// An encoded part longer than this is replaced by a short digest, keeping keys readable.
const MAX_PART_LENGTH = 64;
// 22 base64url characters are 132 bits of SHA-256: collisions are out of reach.
const PART_DIGEST_LENGTH = 22;
const STRATEGY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
// The characters encodeURIComponent leaves as they are.
const UNRESERVED = /^[A-Za-z0-9_.!~*'()-]*$/;

// The last name formatKey accepted (see there); a symbol at first, which no name equals.
let lastValidName: unknown = Symbol('none yet');

/** Whether `name` can be a strategy name: 1–64 letters, digits, `_`, `.` or `-` (never `:`). */
export function isStrategyName(name: unknown): name is string {
  return typeof name === 'string' && STRATEGY_NAME.test(name);
}

/**
 * Builds a key `strategy:part1:part2…` from part values.
 *
 * Each value is percent-encoded (`encodeURIComponent`), so a `:` inside a value cannot make two
 * different part lists collide, and Redis Cluster never sees a `{hash tag}`. An encoded part longer
 * than 64 characters becomes `#` + 22 characters of its SHA-256; a key still longer than
 * {@link MAX_KEY_LENGTH} becomes `strategy:#` + the full SHA-256 of everything after the name.
 * `#` never starts an encoded value (it encodes as `%23`), so digests cannot pass for values.
 * @throws TypeError when the name is not a strategy name or a part value is not a string.
 * @example formatKey('stateWindow', [{ label: 'entity', value: 'c:1' }, { label: 'state', value: 'connected' }])
 * // 'stateWindow:c%3A1:connected'
 */
export function formatKey(strategyName: string, parts: readonly KeyPart[]): string {
  // A strategy passes the same name on every call: checked once, then remembered.
  if (strategyName !== lastValidName && !isStrategyName(strategyName)) {
    throw new TypeError(`[idemkit] strategy name ${JSON.stringify(strategyName)} must be 1-64 letters, digits, "_", "." or "-"`);
  }
  lastValidName = strategyName;
  const encoded = parts.map(encodePart);
  const key = encoded.length === 1 ? `${strategyName}:${encoded[0]}` : [strategyName, ...encoded].join(':');
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `${strategyName}:#${sha256Base64url(encoded.join(':'))}`;
}

function encodePart(part: KeyPart): string {
  const { value } = part;
  if (typeof value !== 'string') {
    // Only a hand-written strategy can get here; String(value) could put "undefined" in a key.
    throw new TypeError(`[idemkit] key part "${part.label}" is ${value === null ? 'null' : typeof value}, expected a string`);
  }
  // Most values (ids, UUIDs, states) are already what encodeURIComponent would return.
  if (value.length <= MAX_PART_LENGTH && UNRESERVED.test(value)) return value;
  let encoded: string;
  let wellFormed = true;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // encodeURIComponent throws on lone surrogates (possible in JSON via "\ud800").
    wellFormed = false;
    encoded = encodeLoneSurrogates(value);
  }
  if (encoded.length <= MAX_PART_LENGTH) return encoded;
  return `#${sha256Base64url(wellFormed ? value : utf16Bytes(value)).slice(0, PART_DIGEST_LENGTH)}`;
}

// Lone surrogates as `%uD800`: percent-encoding always puts two hex digits after `%`, never `u`,
// so this stays unambiguous.
function encodeLoneSurrogates(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    out += code >= 0xd800 && code <= 0xdfff ? `%u${code.toString(16).toUpperCase()}` : encodeURIComponent(char);
  }
  return out;
}

// UTF-8 would turn every lone surrogate into U+FFFD, so distinct values would share a digest.
// A leading 0xFF byte, which never occurs in UTF-8, keeps these inputs apart from UTF-8 ones.
function utf16Bytes(value: string): Uint8Array {
  return Buffer.concat([Buffer.from([0xff]), Buffer.from(value, 'utf16le')]);
}
