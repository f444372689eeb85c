import { Redis } from 'ioredis';

/**
 * Deletes every key under a test run's prefix, and nothing else: the machine's Redis is shared,
 * so runs never FLUSHALL. Also used by other packages' test setups that write to Redis.
 */
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
