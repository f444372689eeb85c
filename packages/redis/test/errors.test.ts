import { afterAll, describe, expect, it } from 'vitest';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, IdempotencyStoreError, type CompleteOutcome, type IdempotencyStore } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { ForeignValueError, RedisStore } from '../src/index.js';
import { close, runPrefix, standaloneClient, storeHandle, uniqueKey } from './support/clients.js';
import { findFreePorts } from './support/ports.js';

const claimOf = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });

/** Every store operation, so each is shown to fail the same bounded way. */
const operations: Array<[string, (store: IdempotencyStore) => Promise<unknown>]> = [
  ['claim', (store) => store.claim(claimOf('k'))],
  ['claimMany', (store) => store.claimMany([claimOf('a'), claimOf('b')])],
  ['complete', (store) => store.complete({ key: 'k', fencingToken: 1, retentionMs: 1_000 })],
  // completeMany answers per item: a failed call fails each of its items.
  ['completeMany', (store) => store.completeMany([{ key: 'k', fencingToken: 1, retentionMs: 1_000 }]).then(itemError)],
  ['release', (store) => store.release('k', 1)],
  ['extendLease', (store) => store.extendLease({ key: 'k', fencingToken: 1, leaseMs: 1_000 })],
  ['get', (store) => store.get('k')],
];

/** Rethrows the error of a batch's first item, so a per-item failure reads like a rejected call. */
const itemError = ([outcome]: CompleteOutcome[]) => {
  if (outcome?.ok === false) throw outcome.error;
};

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

describe('foreign values on the real server', () => {
  const { store, close: closeStore } = storeHandle(standaloneClient(), manualClock().now);
  const admin = standaloneClient();
  afterAll(async () => {
    await closeStore();
    await close(admin);
  });

  const attemptsOn = (key: string): Array<[string, () => Promise<unknown>]> => [
    ['claim', () => store.claim(claimOf(key))],
    ['claimMany', () => store.claimMany([claimOf(uniqueKey('fine')), claimOf(key)])],
    ['complete', () => store.complete({ key, fencingToken: 1, retentionMs: 1_000 })],
    ['completeMany', () => store.completeMany([{ key, fencingToken: 1, retentionMs: 1_000 }]).then(itemError)],
    ['release', () => store.release(key, 1)],
    ['extendLease', () => store.extendLease({ key, fencingToken: 1, leaseMs: 1_000 })],
    ['get', () => store.get(key)],
  ];

  const expectForeign = async (name: string, attempt: () => Promise<unknown>, redisKey: string, reason: RegExp) => {
    const error = await failure(attempt());
    expect(error, name).toBeInstanceOf(ForeignValueError);
    expect(error, name).toBeInstanceOf(IdempotencyStoreError);
    expect(error, name).toMatchObject({ retryable: false, redisKey });
    expect((error as Error).message, name).toMatch(new RegExp(`^\\[idemkit\\] \\[redis\\] ${name} failed: IDEMKIT_FOREIGN_VALUE `));
    expect((error as Error).message, name).toMatch(reason);
    expect(((error as Error).cause as Error).name, name).toBe('ReplyError');
  };

  it('a key of another type under the prefix fails every operation with a typed, non-retryable error naming it', async () => {
    const key = uniqueKey('wrongtype');
    await admin.hset(store.redisKey(key), 'status', 'in_progress');
    for (const [name, attempt] of attemptsOn(key)) await expectForeign(name, attempt, store.redisKey(key), /holds a hash, not an idemkit value/);
    expect(await admin.hgetall(store.redisKey(key))).toEqual({ status: 'in_progress' });
  });

  it('a string that does not decode as an idemkit value fails the same way and is left as it was', async () => {
    // Not msgpack at all; empty; msgpack of the wrong shape (numbers where occurrences go, a bad status).
    const cases = [Buffer.from('not ours'), Buffer.alloc(0), Buffer.from([0x93, 1, 2, 3]), Buffer.from([0x92, 1, 0x92, 5, 6])];
    for (const value of cases) {
      const key = uniqueKey('foreign-string');
      await admin.set(store.redisKey(key), value);
      for (const [name, attempt] of attemptsOn(key)) {
        await expectForeign(name, attempt, store.redisKey(key), /holds a string that is not an idemkit value/);
      }
      expect(await admin.getBuffer(store.redisKey(key))).toEqual(value);
    }
  });

  it('an ordering entity key holding something else fails the version calls the same way', async () => {
    const entity = uniqueKey('foreign-entity');
    await admin.set(store.versionKey(entity), 'not ours');
    const error = await failure(store.claimVersion({ entity, version: 'n01', leaseMs: 1_000, retentionMs: 1_000 }));
    expect(error).toBeInstanceOf(ForeignValueError);
    expect(error).toMatchObject({ redisKey: store.versionKey(entity) });
    await expect(store.getVersion(entity)).rejects.toBeInstanceOf(ForeignValueError);
    // An idemkit key is not a version record either.
    const key = uniqueKey('occurrences');
    await store.claim(claimOf(key));
    await admin.copy(store.redisKey(key), store.versionKey(key));
    await expect(store.getVersion(key)).rejects.toBeInstanceOf(ForeignValueError);
  });

  it('a batch with one foreign value fails whole and changes nothing (a script is not rolled back)', async () => {
    const [fresh, foreign] = [uniqueKey('batch-fresh'), uniqueKey('batch-foreign')];
    await admin.set(store.redisKey(foreign), 'not ours');
    await expect(store.claimMany([claimOf(fresh), claimOf(foreign)])).rejects.toBeInstanceOf(ForeignValueError);
    expect(await admin.exists(store.redisKey(fresh))).toBe(0);
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
    expect(() => new RedisStore({ client, clock: 'redis' as never })).toThrow(/"clock"/);
  });

  it('rejects a bad request before any I/O', async () => {
    const store = new RedisStore({ client, prefix: runPrefix() });
    await expect(store.claim({ key: '', leaseMs: 1, retentionMs: 1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(store.complete({ key: 'k', fencingToken: 1, retentionMs: 0 })).rejects.toThrow(/"retentionMs"/);
    await expect(store.get('k', 1.5)).rejects.toThrow(/"fencingToken"/);
    await expect(store.get('')).rejects.toThrow(/"key"/);
    await expect(store.completeVersion('e', 0, 1_000)).rejects.toThrow(/"fencingToken"/);
  });
});
