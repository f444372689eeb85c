import { Redis } from 'ioredis';

// The machine's Redis is shared by every test run (and CI), so test setups check it is there,
// write only under their own prefix, and delete only that prefix: never FLUSHALL.
// Used by the test setups of every package that writes to it.

/**
 * Fails fast, saying which server is missing, where, and how to start it.
 * @param who the package whose tests need it, for the message
 */
export async function assertRedisReachable(url: string, who: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(
      `${who} tests need a Redis server at ${url} (set REDIS_URL to use another): ${(error as Error).message.replace(/\.$/, '')}. ` +
        'Start it with `bash scripts/ensure-services.sh` from the repository root.',
    );
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under a test run's prefix, and nothing else. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
