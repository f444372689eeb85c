import type { StoreOptions } from '@idemkit/core';
import type { Cluster, Redis } from 'ioredis';

/** An ioredis client: a standalone `Redis` (or Sentinel-managed) connection, or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/** Options for {@link RedisStore}. */
export interface RedisStoreOptions extends StoreOptions {
  /** Your ioredis `Redis` or `Cluster` client; the store never connects or quits it. */
  client: RedisClient;
  /**
   * Start of every Redis key the store writes: `<prefix>:{<key>}:record` and `<prefix>:{<key>}:fence`.
   * 1–64 characters of `A–Z a–z 0–9 : _ . -`.
   * @default 'idemkit'
   */
  prefix?: string;
  /**
   * Longest any one operation may take, connection waits included, before it fails with a
   * retryable `IdempotencyStoreError`; keeps a call from waiting on ioredis' offline queue forever.
   * @default 2000
   */
  operationTimeoutMs?: number;
  /**
   * How long a key's fencing counter outlives its record. It must exceed the clock skew between
   * your consumers: after it, tokens are still kept from going back by a floor taken from the clock.
   * @default 3600000 (one hour)
   */
  fenceGraceMs?: number;
  /**
   * Largest result (bytes of JSON text) the engine may store; Redis itself caps a value at 512 MiB.
   * @default 536870912
   */
  maxResultBytes?: number;
}
