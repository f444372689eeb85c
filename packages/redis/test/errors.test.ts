import { afterAll, describe, expect, it } from 'vitest';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, IdempotencyStoreError, type IdempotencyStore } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { RedisStore } from '../src/index.js';
import { close, runPrefix, standaloneClient, storeHandle, uniqueKey } from './support/clients.js';
import { findFreePorts } from './support/ports.js';

const claimOf = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });

/** Every store operation, so each is shown to fail the same bounded way. */
const operations: Array<[string, (store: IdempotencyStore) => Promise<unknown>]> = [
  ['claim', (store) => store.claim(claimOf('k'))],
  ['claimMany', (store) => store.claimMany([claimOf('a'), claimOf('b')])],
  ['complete', (store) => store.complete({ key: 'k', fencingToken: 1, retentionMs: 1_000 })],
  ['completeMany', (store) => store.completeMany([{ key: 'k', fencingToken: 1, retentionMs: 1_000 }])],
  ['release', (store) => store.release('k', 1)],
  ['get', (store) => store.get('k')],
];

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

describe('a dead server gives a bounded IdempotencyStoreError', () => {
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((client) => client.disconnect()));

  /** A client on a loopback port nothing listens on, reconnecting forever with its offline queue on. */
  const deadClient = async (options: RedisOptions = {}) => {
    const [port] = await findFreePorts(1);
    const client = new Redis({ host: '127.0.0.1', port, ...options });
    client.on('error', () => undefined); // ioredis reports each refused reconnect here
    clients.push(client);
    return client;
  };

  it.each(operations)('%s rejects within operationTimeoutMs on a client stuck in its offline queue', async (_name, run) => {
    // ioredis' defaults (offline queue, 20 retries per request) would hold the call for ~10 s.
    const client = await deadClient();
    const store = new RedisStore({ client, prefix: runPrefix(), operationTimeoutMs: 300 });
    const started = performance.now();
    const error = await failure(run(store));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ store: 'redis', retryable: true, code: 'STORE_ERROR' });
    expect((error as Error).message).toMatch(/^\[idemkit\] \[redis\] \w+ failed: no reply within 300 ms/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_300);
  });

  it('a refused connection with the offline queue off fails at once, the driver error as cause', async () => {
    const client = await deadClient({ enableOfflineQueue: false });
    const store = new RedisStore({ client, prefix: runPrefix(), operationTimeoutMs: 5_000 });
    const started = performance.now();
    const error = await failure(store.claim(claimOf(uniqueKey('offline'))));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as IdempotencyStoreError).retryable).toBe(true);
    expect(((error as Error).cause as Error).message).toMatch(/enableOfflineQueue|Connection|ECONNREFUSED/i);
  });

  it('a closed client fails at once', async () => {
    const client = standaloneClient();
    await client.quit();
    const store = new RedisStore({ client, prefix: runPrefix() });
    const error = await failure(store.get(uniqueKey('closed')));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(((error as Error).cause as Error).message).toMatch(/closed/i);
  });
});

describe('script errors on the real server', () => {
  const { store, close: closeStore } = storeHandle(standaloneClient(), manualClock().now);
  const admin = standaloneClient();
  afterAll(async () => {
    await closeStore();
    await close(admin);
  });

  it('a key of the wrong type under the prefix fails every operation with a non-retryable store error', async () => {
    const key = uniqueKey('wrongtype');
    await admin.set(store.redisKeys(key).record, 'not a hash');
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['claim', () => store.claim(claimOf(key))],
      ['claimMany', () => store.claimMany([claimOf(uniqueKey('fine')), claimOf(key)])],
      ['complete', () => store.complete({ key, fencingToken: 1, retentionMs: 1_000 })],
      ['completeMany', () => store.completeMany([{ key, fencingToken: 1, retentionMs: 1_000 }])],
      ['release', () => store.release(key, 1)],
      ['get', () => store.get(key)],
    ];
    for (const [name, attempt] of attempts) {
      const error = await failure(attempt());
      expect(error, name).toBeInstanceOf(IdempotencyStoreError);
      expect(error, name).toMatchObject({ retryable: false });
      const reason = name === 'get' ? 'WRONGTYPE' : 'IDEMKIT_FOREIGN_VALUE .* holds a string, not an idemkit record';
      expect((error as Error).message, name).toMatch(new RegExp(`^\\[idemkit\\] \\[redis\\] ${name} failed: ${reason}`));
      expect(((error as Error).cause as Error).name, name).toBe('ReplyError');
    }
  });

  it('a hash that is not an idemkit record fails claims and gets clearly', async () => {
    const key = uniqueKey('foreign-hash');
    await admin.hset(store.redisKeys(key).record, 'status', 'in_progress', 'owner', 'someone else');
    const claimError = await failure(store.claim(claimOf(key)));
    expect(claimError).toBeInstanceOf(IdempotencyStoreError);
    expect((claimError as Error).message).toMatch(/claim failed: IDEMKIT_FOREIGN_VALUE .* is a hash but not an idemkit record/);
    const getError = await failure(store.get(key));
    expect(getError).toBeInstanceOf(IdempotencyStoreError);
    expect((getError as Error).message).toMatch(/is not an idemkit record/);
  });

  it('a batch with one foreign value fails whole and changes nothing (a script is not rolled back)', async () => {
    const [fresh, foreign] = [uniqueKey('batch-fresh'), uniqueKey('batch-foreign')];
    await admin.set(store.redisKeys(foreign).fence, 'not a number');
    await expect(store.claimMany([claimOf(fresh), claimOf(foreign)])).rejects.toThrow(/is not an idemkit fencing counter/);
    expect(await store.get(fresh)).toBeUndefined();
    expect(await admin.exists(store.redisKeys(fresh).record, store.redisKeys(fresh).fence)).toBe(0);
  });
});

describe('configuration', () => {
  const client = standaloneClient();
  afterAll(() => close(client));

  it.each(['', 'has space', 'a{b}', 'star*', 'x'.repeat(65), 'ünï'])('rejects the prefix %j', (prefix) => {
    expect(() => new RedisStore({ client, prefix })).toThrow(ConfigError);
    expect(() => new RedisStore({ client, prefix })).toThrow(/"prefix"/);
  });

  it('accepts the documented prefix alphabet and defaults to "idemkit"', () => {
    expect(new RedisStore({ client, prefix: 'A-z_0.9:x' }).prefix).toBe('A-z_0.9:x');
    expect(new RedisStore({ client }).prefix).toBe('idemkit');
  });

  it('names a missing client and bad durations', () => {
    expect(() => new RedisStore({} as never)).toThrow(/"client"/);
    expect(() => new RedisStore({ client, operationTimeoutMs: 0 })).toThrow(/"operationTimeoutMs"/);
    expect(() => new RedisStore({ client, fenceGraceMs: 1.5 })).toThrow(/"fenceGraceMs"/);
  });

  it('rejects a bad request before any I/O', async () => {
    const store = new RedisStore({ client, prefix: runPrefix() });
    await expect(store.claim({ key: '', leaseMs: 1, retentionMs: 1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(store.complete({ key: 'k', fencingToken: 1, retentionMs: 0 })).rejects.toThrow(/"retentionMs"/);
  });
});
