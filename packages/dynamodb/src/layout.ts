import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ConfigError } from '@idemkit/core';
import type { DynamoDBSortKey, DynamoDBStoreOptions } from './types.js';

// One item per key. It holds the key's fencing counter and its occurrences, one top-level map
// attribute ("slot") per occurrence. Top-level, not entries of one map: an update can create a
// top-level attribute on any item, but cannot set a map entry before the map exists, and a blind
// claim does not know whether the item exists. See docs/store-dynamodb.md for the design.

/** Attribute names of a key's item; short, because DynamoDB bills and limits attribute names too. */
export const ITEM = {
  /**
   * The key's counter: strictly increases with every write to the item (claims set it to the new
   * occurrence's token; complete, release and extendLease add one), so it is also the item's
   * revision, which a write that decided from a read of the item pins.
   */
  fence: 'fence',
  /** windowMs of the bucket layout of the item's windowed slots, or 0 when they follow none. */
  window: 'win',
  /** A lower bound of when an expired slot is due to be pruned (see {@link slotPruneDeadline}). */
  prune: 'prune',
} as const;

/** Field names inside a slot (one occurrence). */
export const SLOT = {
  status: 's',
  token: 't',
  lease: 'l',
  expiresAt: 'e',
  claimedAt: 'c',
  anchor: 'a',
  fingerprint: 'f',
  result: 'r',
  owner: 'o',
  /** The nonce of the request that last wrote the occurrence: tells a retried request its own write. */
  nonce: 'n',
} as const;

/** Stored values of a slot's status field. */
export const STATUS = { inProgress: 'p', completed: 'c' } as const;

/** Attribute names of an entity's item in the ordering guard (`claimVersion`). */
export const VERSION = {
  fence: 'vfence',
  expiresAt: 'vexp',
  applied: 'applied',
  pendingVersion: 'pv',
  pendingToken: 'pt',
  pendingLease: 'pl',
  pendingClaimedAt: 'pc',
  pendingOwner: 'po',
  /** The nonce of the last write: tells a retried request its own write. */
  nonce: 'vn',
} as const;

/** Every slot attribute starts with this; user attribute names may not. */
export const SLOT_PREFIX = '@';

/** The slot of a key's unwindowed occurrence (a key has at most one). */
export const UNWINDOWED_SLOT = `${SLOT_PREFIX}u`;

/** Where records live in the table: its name and the user-chosen key and TTL attributes. */
export interface TableLayout {
  tableName: string;
  partitionKey: string;
  sortKey?: DynamoDBSortKey;
  ttlAttribute: string;
}

/** DynamoDB's limit on a partition key value. */
export const MAX_KEY_BYTES = 2048;

/**
 * The bucket of a windowed occurrence at `at` in the layout of `windowMs`: `floor(at / windowMs)`.
 * Two occurrences a key accepted with one windowMs lie at least windowMs apart, so a bucket holds
 * at most one, and every occurrence a time meets lies in its bucket or a neighbour.
 */
export function bucketOf(at: number, windowMs: number): number {
  return Math.floor(at / windowMs);
}

/** The slot of a bucket. */
export function bucketSlot(bucket: number): string {
  return `${SLOT_PREFIX}${bucket}`;
}

/** A slot name outside the bucket layout, for an occurrence whose bucket is taken (windowMs changed). */
export function strayedSlot(fencingToken: number): string {
  return `${SLOT_PREFIX}t${fencingToken}`;
}

/** Whether an attribute of a key's item is an occurrence slot. */
export function isSlot(attribute: string): boolean {
  return attribute.startsWith(SLOT_PREFIX);
}

/** Validates the table options and fills in defaults; a clash of attribute names is a ConfigError. */
export function resolveLayout(options: DynamoDBStoreOptions): TableLayout {
  requireName('tableName', options.tableName);
  const partitionKey = options.partitionKey ?? 'id';
  const ttlAttribute = options.ttlAttribute ?? 'ttl';
  requireName('partitionKey', partitionKey);
  requireName('ttlAttribute', ttlAttribute);
  if (options.sortKey !== undefined) {
    requireName('sortKey.name', options.sortKey.name);
    if (typeof options.sortKey.value !== 'string' || options.sortKey.value.length === 0) {
      throw new ConfigError('sortKey.value', 'must be a non-empty string');
    }
  }
  const taken = new Map<string, string>([...Object.values(ITEM), ...Object.values(VERSION)].map((name) => [name, 'a record field']));
  const claims: Array<[string, string]> = [
    ['partitionKey', partitionKey],
    ...(options.sortKey === undefined ? [] : ([['sortKey.name', options.sortKey.name]] as Array<[string, string]>)),
    ['ttlAttribute', ttlAttribute],
  ];
  for (const [field, name] of claims) {
    if (isSlot(name)) throw new ConfigError(field, `attribute names starting with "${SLOT_PREFIX}" hold occurrences`);
    const holder = taken.get(name);
    if (holder !== undefined) throw new ConfigError(field, `attribute "${name}" is already used by ${holder}`);
    taken.set(name, field);
  }
  const layout: TableLayout = { tableName: options.tableName, partitionKey, ttlAttribute };
  if (options.sortKey !== undefined) layout.sortKey = { ...options.sortKey };
  return layout;
}

/** The primary key of a key's (or an entity's) item. */
export function itemKey(layout: TableLayout, key: string): Record<string, AttributeValue> {
  const itemKey: Record<string, AttributeValue> = { [layout.partitionKey]: { S: key } };
  if (layout.sortKey !== undefined) itemKey[layout.sortKey.name] = { S: layout.sortKey.value };
  return itemKey;
}

/** Rejects a key DynamoDB would refuse, before any request; `field` names it in the error. */
export function assertKeyFits(key: string, field = 'key'): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new ConfigError(field, `is ${bytes} bytes; a DynamoDB partition key holds at most ${MAX_KEY_BYTES}`);
  }
}

function requireName(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(field, 'must be a non-empty string');
}
