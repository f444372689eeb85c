import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { assertRedisReachable, deleteKeys } from './support/machine-redis.js';
import { startCluster } from './support/cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The machine's standalone Redis: `REDIS_URL`, default `redis://127.0.0.1:6379`. */
    redisUrl: string;
    /** This run's key prefix on the standalone server; its keys are deleted at teardown. */
    redisPrefix: string;
    /** Loopback ports of the three-node Cluster this run started (and will stop). */
    redisClusterPorts: number[];
  }
}

/**
 * Checks the standalone Redis is reachable (and says how to start it if not), starts a private
 * three-node Redis Cluster, and hands both to the tests. Teardown deletes this run's keys from
 * the standalone server (SCAN + DEL of the run's prefix, never FLUSHALL) and kills the Cluster.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `idemkit-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  await assertRedisReachable(redisUrl, '@idemkit/redis');
  const cluster = await startCluster(3);
  project.provide('redisUrl', redisUrl);
  project.provide('redisPrefix', redisPrefix);
  project.provide('redisClusterPorts', cluster.ports);
  return async () => {
    try {
      await deleteKeys(redisUrl, redisPrefix);
    } finally {
      await cluster.stop();
    }
  };
}
