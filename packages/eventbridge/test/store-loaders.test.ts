// The per-store loaders a bundled handler passes as `loader`: each serves its own store's packages
// and refuses the others' with a MissingAdapterError that names the right loader.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConfigError } from '@idemkit/core';
import { RedisStore } from '@idemkit/redis';
import { dynamodbLoader } from '@idemkit/eventbridge/dynamodb';
import { postgresLoader } from '@idemkit/eventbridge/postgres';
import { redisLoader } from '@idemkit/eventbridge/redis';
import { closeSharedStores, makeIdempotent, MissingAdapterError, storeFromUrl, type AdapterModule, type ModuleLoader } from '../src/index.js';
import { orderEvent } from './support/events.js';
import { lambdaContext, rejection } from './support/lambda.js';
import { uniqueNamespace } from './support/stores.js';

const redisUrl = () => `${inject('redisUrl')}?prefix=${inject('redisPrefix')}:loader-${randomUUID().slice(0, 8)}`;

afterAll(() => closeSharedStores());

describe('store loaders for bundles', () => {
  it('redisLoader opens a redis:// URL on the real Redis', async () => {
    const store = await storeFromUrl(redisUrl(), { loader: redisLoader });
    try {
      expect(store).toBeInstanceOf(RedisStore);
      const key = `loader-test:${randomUUID()}`;
      expect((await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 })).acquired).toBe(true);
      expect((await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 })).acquired).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('each serves exactly its own store’s adapter and driver', async () => {
    const exportsOf = async (loader: ModuleLoader, specifier: AdapterModule) => Object.keys((await loader(specifier)) as object);
    expect(await exportsOf(redisLoader, '@idemkit/redis')).toContain('RedisStore');
    expect(await exportsOf(redisLoader, 'ioredis')).toContain('Redis');
    expect(await exportsOf(postgresLoader, '@idemkit/postgres')).toContain('PostgresStore');
    expect(await exportsOf(postgresLoader, 'pg')).toContain('default');
    expect(await exportsOf(dynamodbLoader, '@idemkit/dynamodb')).toContain('DynamoDBStore');
    expect(await exportsOf(dynamodbLoader, '@aws-sdk/client-dynamodb')).toContain('DynamoDBClient');
  });

  it('a URL of another store names the loader it needs', async () => {
    const error = await rejection(storeFromUrl('postgres://db/app', { loader: redisLoader }));
    expect(error).toBeInstanceOf(MissingAdapterError);
    expect(error).toMatchObject({ missing: '@idemkit/postgres', packages: ['@idemkit/postgres', 'pg'], field: 'store' });
    expect((error as Error).message).toContain('pass `loader: postgresLoader` from "@idemkit/eventbridge/postgres"');
    expect(((error as Error).cause as Error).message).toContain('redisLoader provides only @idemkit/redis and ioredis');
    const dynamo = await rejection(storeFromUrl('dynamodb://t?region=eu-west-1', { loader: postgresLoader }));
    expect((dynamo as Error).message).toContain('`loader: dynamodbLoader` from "@idemkit/eventbridge/dynamodb"');
  });

  it('wrappers with one loader and one URL share one client', async () => {
    const asked: AdapterModule[] = [];
    const counting: ModuleLoader = (specifier) => {
      asked.push(specifier);
      return redisLoader(specifier);
    };
    const url = redisUrl();
    const config = { store: url, loader: counting, env: false, logLevel: 'off' } as const;
    const first = makeIdempotent(async () => 'first', { ...config, namespace: uniqueNamespace() });
    const second = makeIdempotent(async () => 'second', { ...config, namespace: uniqueNamespace() });
    await expect(first(orderEvent(), lambdaContext())).resolves.toBe('first');
    await expect(second(orderEvent(), lambdaContext())).resolves.toBe('second');
    expect(asked).toEqual(['@idemkit/redis', 'ioredis']);
  });

  it('a CommonJS driver bundled into ESM without `require` names the banner the bundle lacks', async () => {
    // What esbuild's `require` stand-in throws in such a bundle; the bundling tests make the real one.
    const loader: ModuleLoader = async (specifier) => {
      if (specifier === 'ioredis') throw new Error('Dynamic require of "events" is not supported');
      return redisLoader(specifier);
    };
    const error = await rejection(storeFromUrl(redisUrl(), { loader }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(MissingAdapterError);
    expect((error as Error).message).toContain('`ioredis` is CommonJS and was bundled into an ESM bundle that has no `require` (it asked for "events")');
    expect((error as Error).message).toContain("import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);");
  });
});
