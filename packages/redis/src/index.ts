/**
 * The idemkit store on Redis (ioredis, standalone or Cluster): atomic, fenced claims in one round trip.
 * @packageDocumentation
 */
export { RedisStore } from './redis-store.js';
export { ForeignValueError, PartialClaimError, PartialWriteError } from './errors.js';
export type { RedisClient, RedisStoreOptions } from './types.js';
