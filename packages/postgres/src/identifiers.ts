import { ConfigError } from '@idemkit/core';

/** What a schema or table name must look like: a plain, unquoted SQL identifier of at most 63 bytes. */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Postgres truncates longer identifiers silently; derived names are kept within this. */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * Checks a schema or table name before it goes near SQL text.
 * @throws {@link ConfigError} naming `field` when the name is not a plain identifier.
 */
export function assertIdentifier(field: 'schema' | 'table', value: unknown): asserts value is string {
  if (typeof value !== 'string' || !IDENTIFIER_PATTERN.test(value)) {
    throw new ConfigError(
      field,
      `must be a SQL identifier matching ${IDENTIFIER_PATTERN} (letters, digits, underscores), got ${JSON.stringify(value)}`,
    );
  }
}

/** Double-quotes a name that {@link assertIdentifier} accepted (it holds no quotes to escape). */
export function quoteIdentifier(name: string): string {
  return `"${name}"`;
}

/**
 * The name of an object that belongs to `table` (its sequence, its index): `<table>_<suffix>`,
 * or, when that would pass 63 bytes, a prefix of the table name plus a hash of the whole,
 * so two long table names never truncate to the same derived name.
 */
export function derivedName(table: string, suffix: string): string {
  const plain = `${table}_${suffix}`;
  if (plain.length <= MAX_IDENTIFIER_BYTES) return plain;
  const hash = fnv1a32(table).toString(16).padStart(8, '0');
  const room = MAX_IDENTIFIER_BYTES - suffix.length - hash.length - 2;
  return `${table.slice(0, room)}_${hash}_${suffix}`;
}

/**
 * A 32-bit advisory-lock number for `text` (e.g. a qualified table name): two stores on different
 * tables lock apart.
 */
export function lockClass(text: string): number {
  return fnv1a32(text) | 0;
}

/** FNV-1a, 32 bits: small, stable, good enough to spread names. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
