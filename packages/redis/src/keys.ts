import { ConfigError } from '@idemkit/core';

/** The prefix used when none is given. */
export const DEFAULT_PREFIX = 'idemkit';

const PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{1,64}$/;

/** The two Redis keys that hold one idemkit key's state; both hash to the same Cluster slot. */
export interface KeyPair {
  /** Hash holding the record's fields. */
  record: string;
  /** String holding the last fencing token handed out; outlives the record. */
  fence: string;
  /** What Redis hashes to pick the slot: the text between the braces. */
  hashTag: string;
}

/**
 * Rejects a prefix that could break the key layout: braces would move the hash tag,
 * glob characters would make `SCAN MATCH prefix:*` ambiguous.
 */
export function assertValidPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError(
      'prefix',
      `must be 1–64 characters of A–Z, a–z, 0–9, ":", "_", "." or "-", got ${JSON.stringify(prefix)}`,
    );
  }
}

/**
 * Encodes an idemkit key for use inside a hash tag: `%`, `{` and `}` are percent-escaped,
 * so the tag always ends at our closing brace and two different keys never share a tag.
 */
export function encodeKey(key: string): string {
  return key.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The Redis keys for one idemkit key: `<prefix>:{<key>}:record` and `<prefix>:{<key>}:fence`.
 * The shared `{<key>}` hash tag puts both in one slot, so one script may touch both on a Cluster.
 */
export function keysFor(prefix: string, key: string): KeyPair {
  const hashTag = encodeKey(key);
  const base = `${prefix}:{${hashTag}}`;
  return { record: `${base}:record`, fence: `${base}:fence`, hashTag };
}
