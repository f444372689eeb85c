import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { MemoryStore, type IdempotencyStore } from '@idemkit/core';
import { manualClock, type ManualClock } from '@idemkit/core/testing';
import { RedisStore } from '@idemkit/redis';

/** A store for one test, on a manual clock, and how to close it. */
export interface TestStore {
  store: IdempotencyStore;
  clock: ManualClock;
  close(): Promise<void>;
}

/** The stores every wrapper branch runs against: the in-memory store and the machine's real Redis. */
export const STORE_KINDS = ['memory', 'redis'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** A fresh store of `kind`; Redis keys go under this run's prefix (deleted at teardown) plus a random part. */
export function openStore(kind: StoreKind): TestStore {
  const clock = manualClock();
  if (kind === 'memory') return { store: new MemoryStore({ clock: clock.now }), clock, close: async () => undefined };
  const client = new Redis(inject('redisUrl'));
  const store = new RedisStore({ client, clock: clock.now, prefix: `${inject('redisPrefix')}:${randomUUID().slice(0, 8)}` });
  return { store, clock, close: async () => void (await client.quit()) };
}

/** A namespace no other test uses, so tests sharing a store never see each other's keys. */
export function uniqueNamespace(label = 'test'): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}
