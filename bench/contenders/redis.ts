import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { RedisStore } from '@idemkit/redis';
import { createClient } from '@redis/client';
import { Redis } from 'ioredis';
import { REDIS_URL, runId } from '../lib/env.js';
import type { StorageFigure } from '../lib/storage.js';
import { countCacheClient, countIoredis } from '../lib/round-trips.js';
import { idemkitContender } from './idemkit.js';
import { powertoolsContender } from './powertools.js';
import { rawContender, type RawClaim, type RawCommands } from './raw.js';
import { RETENTION_SECONDS, type StoreBench } from './types.js';

/**
 * idemkit (RedisStore on ioredis), Powertools (CachePersistenceLayer on @redis/client) and the
 * raw commands on the same Redis, each on its own connection, all under this run's key prefix.
 */
export async function redisBench(): Promise<StoreBench> {
  const prefix = runId('bench');
  const idemkitClient = new Redis(REDIS_URL);
  const batchCompletionClient = new Redis(REDIS_URL);
  const rawClient = new Redis(REDIS_URL);
  const powertoolsClient = createClient({ url: REDIS_URL });
  await powertoolsClient.connect();
  const counted = countCacheClient(powertoolsClient);
  const info = await rawClient.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';

  const contenders = [
    idemkitContender('redis', new RedisStore({ client: idemkitClient, prefix: `${prefix}:idemkit` }), countIoredis(idemkitClient)),
    idemkitContender(
      'redis',
      new RedisStore({ client: batchCompletionClient, prefix: `${prefix}:idemkit-batch` }),
      countIoredis(batchCompletionClient),
      "idemkit, completion: 'batch'",
      'batch',
    ),
    powertoolsContender('redis', () => new CachePersistenceLayer({ client: counted.client }), counted.counter, `${prefix}:powertools`),
    rawContender('redis', rawRedisCommands(rawClient, `${prefix}:raw`), countIoredis(rawClient)),
  ];
  const cacheContenders = [
    idemkitContender('redis', new RedisStore({ client: idemkitClient, prefix: `${prefix}:idemkit-cache` }), contenders[0]!.roundTrips, 'idemkit, localCache', 'each', true),
    powertoolsContender('redis', () => new CachePersistenceLayer({ client: counted.client }), counted.counter, `${prefix}:powertools-cache`, true),
  ];
  return {
    store: 'redis',
    server: `Redis ${version}`,
    contenders,
    cacheContenders,
    storage: () =>
      Promise.all([
        redisMemoryPerKey(rawClient, 'idemkit', `${prefix}:idemkit:*`),
        redisMemoryPerKey(rawClient, 'Powertools', `${prefix}:powertools#*`),
        redisMemoryPerKey(rawClient, 'raw', `${prefix}:raw:*`),
      ]),
    async close() {
      await deleteKeys(rawClient, prefix);
      await Promise.all([idemkitClient.quit(), batchCompletionClient.quit(), rawClient.quit(), powertoolsClient.quit()]);
    },
  };
}

const IN_PROGRESS = JSON.stringify({ status: 'in_progress' });

/** `SET NX GET` claims and returns the existing value in one command (Redis 7); `SET` completes. */
function rawRedisCommands(client: Redis, prefix: string): RawCommands {
  const keyOf = (key: string) => `${prefix}:${key}`;
  const claimArgs = (key: string) => [keyOf(key), IN_PROGRESS, 'EX', String(RETENTION_SECONDS), 'NX', 'GET'];
  const decode = (old: unknown): RawClaim => {
    if (old === null) return { acquired: true };
    const record = JSON.parse(String(old)) as { status: string; result?: string };
    return { acquired: false, completed: record.status === 'completed', result: record.result };
  };
  const completed = (result: string) => JSON.stringify({ status: 'completed', result });
  return {
    claim: async (key) => decode(await client.call('SET', ...claimArgs(key))),
    complete: async (key, result) => void (await client.set(keyOf(key), completed(result), 'EX', RETENTION_SECONDS)),
    release: async (key) => void (await client.del(keyOf(key))),
    async claimMany(keys) {
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.call('SET', ...claimArgs(key));
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([error, reply]) => {
        if (error) throw error;
        return decode(reply);
      });
    },
    async completeMany(entries) {
      const pipeline = client.pipeline();
      for (const { key, result } of entries) pipeline.set(keyOf(key), completed(result), 'EX', RETENTION_SECONDS);
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    },
  };
}

/** Keys sampled per contender for `MEMORY USAGE`. */
const MEMORY_SAMPLE = 2000;

/**
 * `MEMORY USAGE` (key, value and the server's per-key bookkeeping) averaged over a sample of the
 * completed keys a contender wrote in this run.
 */
async function redisMemoryPerKey(client: Redis, contender: string, pattern: string): Promise<StorageFigure> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0' && keys.length < MEMORY_SAMPLE);
  const sample = keys.slice(0, MEMORY_SAMPLE);
  const pipeline = client.pipeline();
  for (const key of sample) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  const bytes = ((await pipeline.exec()) ?? []).reduce((sum, [error, reply]) => (error ? sum : sum + Number(reply)), 0);
  return { contender, sampled: sample.length, bytesPerKey: sample.length === 0 ? Number.NaN : bytes / sample.length, method: 'MEMORY USAGE, sample' };
}

/** Deletes this run's keys (SCAN + UNLINK of its prefix; never FLUSHALL: the server is shared). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
