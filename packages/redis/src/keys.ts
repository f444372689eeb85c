import { ConfigError } from '@idemkit/core';

/** The prefix used when none is given. */
export const DEFAULT_PREFIX = 'idemkit';

const PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{1,64}$/;

/** The Redis key holding one idemkit key (or one ordering entity), and the hash tag its slot comes from. */
export interface RedisKey {
  /** `<prefix>:{<key>}` for an idemkit key, `<prefix>:{<entity>}:version` for an ordering entity. */
  key: string;
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
  // Three scans for single characters are cheaper than a regex on every call (keys rarely hold them).
  if (!key.includes('%') && !key.includes('{') && !key.includes('}')) return key;
  return key.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The one Redis key of an idemkit key: `<prefix>:{<key>}`, holding its occurrence history and its
 * fencing counter. The braces make the whole (escaped) key the hash tag.
 */
export function occurrenceKeyOf(prefix: string, key: string): RedisKey {
  const hashTag = encodeKey(key);
  return { key: `${prefix}:{${hashTag}}`, hashTag };
}

/** The Redis key of an ordering entity: `<prefix>:{<entity>}:version`, never equal to an idemkit key's. */
export function versionKeyOf(prefix: string, entity: string): RedisKey {
  const hashTag = encodeKey(entity);
  return { key: `${prefix}:{${hashTag}}:version`, hashTag };
}
