import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { inject } from 'vitest';
import type { Clock } from '@idemkit/core';
import { RedisStore, type RedisClient, type RedisStoreOptions } from '../../src/index.js';

/** This run's prefix on the shared standalone server, plus an optional suffix to isolate one test. */
export function runPrefix(suffix?: string): string {
  const prefix = inject('redisPrefix');
  return suffix === undefined ? prefix : `${prefix}:${suffix}`;
}

/** A fresh connection to the machine's standalone Redis. */
export function standaloneClient(): Redis {
  return new Redis(inject('redisUrl'));
}

/** A fresh Cluster client on this run's three-node Cluster; `options` e.g. route a node through a proxy (`natMap`). */
export function clusterClient(options: ClusterOptions = {}): Cluster {
  return new Cluster(inject('redisClusterPorts').map((port) => ({ host: '127.0.0.1', port })), options);
}

/** One direct connection per Cluster node, for admin commands (SCRIPT FLUSH, MONITOR). */
export function clusterNodeClients(): Redis[] {
  return inject('redisClusterPorts').map((port) => new Redis({ host: '127.0.0.1', port }));
}

/** A store on its own new client, closed with the handle (what the conformance suite wants). */
export function storeHandle(
  client: RedisClient,
  clock: Clock,
  options: Partial<RedisStoreOptions> = {},
): { store: RedisStore; close: () => Promise<void> } {
  const store = new RedisStore({ client, prefix: runPrefix(), clock, ...options });
  return { store, close: () => close(client) };
}

/** Closes a client, waiting for QUIT when it is connected. */
export async function close(client: RedisClient): Promise<void> {
  if (client.status === 'ready') await client.quit();
  else client.disconnect();
}

/** A key no other test uses. */
export function uniqueKey(label: string): string {
  return `test:${label}:${randomUUID()}`;
}

/**
 * A store for the conformance suite: on a connected client, with a deadline far above any round
 * trip, so a loaded machine cannot fail a test on time (errors.test.ts tests the deadline itself).
 */
export async function conformanceStore(client: RedisClient, clock: Clock): Promise<{ store: RedisStore; close: () => Promise<void> }> {
  if (client.status !== 'ready') await new Promise<void>((resolve, reject) => client.once('ready', resolve).once('error', reject));
  return storeHandle(client, clock, { operationTimeoutMs: 15_000 });
}
