import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { deleteKeys } from './support/cleanup.js';
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
  await assertReachable(redisUrl);
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

async function assertReachable(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(
      `@idemkit/redis tests need a Redis server at ${url} (set REDIS_URL to use another): ` +
        `${(error as Error).message}. Start one with \`redis-server --daemonize yes\` ` +
        '(or `docker run -p 6379:6379 redis:7`).',
    );
  } finally {
    client.disconnect();
  }
}
