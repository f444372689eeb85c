import type { Clock, StoreOptions } from '@idemkit/core';
import type { Cluster, Redis } from 'ioredis';

/** An ioredis client: a standalone `Redis` (or Sentinel-managed) connection, or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/** Options for {@link RedisStore}. */
export interface RedisStoreOptions extends Omit<StoreOptions, 'clock'> {
  /** Your ioredis `Redis` or `Cluster` client; the store never connects or quits it. */
  client: RedisClient;
  /**
   * Start of every Redis key the store writes: `<prefix>:{<key>}` per idemkit key and
   * `<prefix>:{<entity>}:version` per ordering entity. 1–64 characters of `A–Z a–z 0–9 : _ . -`.
   * @default 'idemkit'
   */
  prefix?: string;
  /**
   * Where leases, retention and the fencing-token floor read the time: a clock function of
   * yours (`Date.now`, or a manual clock in tests), or `'server'` for Redis' own clock (`TIME`,
   * read inside every script), so consumers whose clocks disagree still agree on every lease.
   * @default Date.now
   */
  clock?: Clock | 'server';
  /**
   * Longest any one round trip may take, connection waits included, before it fails with a
   * retryable `IdempotencyStoreError`; keeps a call from waiting on ioredis' offline queue forever.
   * An operation whose identities span Cluster slots makes a few round trips, each with this limit.
   * @default 2000
   */
  operationTimeoutMs?: number;
  /**
   * How long a key stays on the server after its last occurrence's retention, keeping its fencing
   * counter. It must exceed the clock skew between your consumers (with `clock: 'server'`, the
   * skew between Redis nodes across a failover): after it, tokens are still kept from going back by
   * a floor taken from the clock.
   * @default 3600000 (one hour)
   */
  fenceGraceMs?: number;
  /**
   * Largest result (bytes of JSON text) the engine may store; Redis itself caps a value at 512 MiB.
   * Every claim of a key reads all its occurrences' results, so keep results of windowed keys small.
   * @default 536870912
   */
  maxResultBytes?: number;
}
