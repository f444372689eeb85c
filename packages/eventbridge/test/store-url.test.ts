import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, IdempotencyInProgressError, MemoryStore } from '@idemkit/core';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { PostgresStore } from '@idemkit/postgres';
import { RedisStore } from '@idemkit/redis';
import { inject } from 'vitest';
import {
  closeSharedStores,
  makeIdempotent,
  makeIdempotentSqs,
  MissingAdapterError,
  redactUrl,
  storeFromUrl,
  type AdapterModule,
  type ModuleLoader,
} from '../src/index.js';
import { orderEvent, sqsEvent, sqsRecord } from './support/events.js';
import { gate, lambdaContext, rejection } from './support/lambda.js';
import { uniqueNamespace } from './support/stores.js';

const redisUrl = () => `${inject('redisUrl')}?prefix=${inject('redisPrefix')}:url-${randomUUID().slice(0, 8)}`;
const postgresUrl = () => `${inject('databaseUrl')}?schema=${inject('pgSchema')}&migrate=true`;

// Loads the real packages, recording which ones were asked for.
function recordingLoader(missing: AdapterModule[] = []): ModuleLoader & { asked: AdapterModule[] } {
  const asked: AdapterModule[] = [];
  const loader = async (specifier: AdapterModule) => {
    asked.push(specifier);
    if (missing.includes(specifier)) {
      throw Object.assign(new Error(`Cannot find package '${specifier}' imported from /var/task/index.mjs`), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    }
    return import(/* @vite-ignore */ specifier);
  };
  return Object.assign(loader, { asked });
}

afterAll(async () => {
  await closeSharedStores();
});

describe('storeFromUrl', () => {
  it('opens memory: as a MemoryStore, loading nothing', async () => {
    const loader = recordingLoader();
    const store = await storeFromUrl('memory:?maxEntries=50', { loader });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(loader.asked).toEqual([]);
    await store.close();
    expect(await storeFromUrl('memory://')).toBeInstanceOf(MemoryStore);
  });

  it('opens redis:// as a RedisStore on ioredis, loading only the Redis adapter and driver', async () => {
    const loader = recordingLoader();
    const store = await storeFromUrl(redisUrl(), { loader });
    try {
      expect(store).toBeInstanceOf(RedisStore);
      expect(loader.asked).toEqual(['@idemkit/redis', 'ioredis']);
      const key = `url-test:${randomUUID()}`;
      const claim = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 });
      expect(claim.acquired).toBe(true);
      expect((await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 })).acquired).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('opens postgres:// as a PostgresStore on a pg Pool, creating the table with migrate=true', async () => {
    const loader = recordingLoader();
    const store = await storeFromUrl(postgresUrl(), { loader });
    try {
      expect(store).toBeInstanceOf(PostgresStore);
      expect((store as unknown as PostgresStore).schema).toBe(inject('pgSchema'));
      expect(loader.asked).toEqual(['@idemkit/postgres', 'pg']);
      const key = `url-test:${randomUUID()}`;
      const claim = await store.claim({ key, leaseMs: 10_000, retentionMs: 60_000 });
      expect(claim.acquired).toBe(true);
      if (claim.acquired) await store.complete({ key, fencingToken: claim.fencingToken, result: '"ok"', retentionMs: 60_000 });
      expect(await store.get(key)).toMatchObject({ status: 'completed', result: '"ok"' });
    } finally {
      await store.close();
    }
  });

  it('opens dynamodb://TABLE as a DynamoDBStore with the region, endpoint and attribute names of the URL', async () => {
    const loader = recordingLoader();
    const store = await storeFromUrl(
      'dynamodb://Idempotency_Prod.v2?region=eu-west-1&endpoint=http://127.0.0.1:8000&partitionKey=pk&ttlAttribute=expires',
      { loader },
    );
    try {
      expect(store).toBeInstanceOf(DynamoDBStore);
      expect((store as unknown as DynamoDBStore).tableName).toBe('Idempotency_Prod.v2');
      expect(loader.asked).toEqual(['@idemkit/dynamodb', '@aws-sdk/client-dynamodb']);
    } finally {
      await store.close();
    }
  });

  it('hands the URL parameters to the DynamoDB client and store', async () => {
    const made: Record<string, unknown> = {};
    const loader: ModuleLoader = async (specifier) =>
      specifier === '@idemkit/dynamodb'
        ? { DynamoDBStore: class { name = 'dynamodb'; constructor(options: unknown) { made['store'] = options; } } }
        : { DynamoDBClient: class { constructor(options: unknown) { made['client'] = options; } destroy() {} } };
    await storeFromUrl('dynamodb://orders-dedup?region=us-east-2&partitionKey=pk', { loader });
    expect(made['client']).toEqual({ region: 'us-east-2' });
    expect(made['store']).toEqual({ client: expect.any(Object), tableName: 'orders-dedup', partitionKey: 'pk' });
  });

  it('says exactly what to npm install when the adapter or its driver is missing', async () => {
    const error = await rejection(storeFromUrl('redis://cache:6379', { loader: recordingLoader(['@idemkit/redis']) }));
    expect(error).toBeInstanceOf(MissingAdapterError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      '[idemkit] invalid config at "store": Cannot import `@idemkit/redis`, which redis: store URLs need. ' +
        'Install it: npm install @idemkit/redis ioredis. In a bundle (esbuild, CDK NodejsFunction, SAM), ' +
        'also pass `loader: redisLoader` from "@idemkit/eventbridge/redis": bundlers cannot follow a package chosen by URL at run time',
    );
    const driver = await rejection(storeFromUrl('postgresql://db/app', { loader: recordingLoader(['pg']) }));
    expect(driver).toMatchObject({ missing: 'pg', packages: ['@idemkit/postgres', 'pg'] });
    expect((driver as Error).message).toContain('npm install @idemkit/postgres pg');
    const dynamo = await rejection(storeFromUrl('dynamodb://t?region=eu-west-1', { loader: recordingLoader(['@aws-sdk/client-dynamodb']) }));
    expect((dynamo as Error).message).toContain('npm install @idemkit/dynamodb @aws-sdk/client-dynamodb');
  });

  it('names IDEMKIT_STORE when the URL came from the environment', async () => {
    const handler = makeIdempotent(async () => 'ok', {
      namespace: uniqueNamespace(),
      loader: recordingLoader(['ioredis']),
      env: { IDEMKIT_STORE: 'rediss://:s3cret@cache.example:6380', IDEMKIT_LOG_LEVEL: 'off' },
    });
    const error = await rejection(handler(orderEvent(), lambdaContext()));
    expect(error).toBeInstanceOf(MissingAdapterError);
    expect((error as MissingAdapterError).field).toBe('IDEMKIT_STORE');
    expect((error as Error).message).toContain('npm install @idemkit/redis ioredis');
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('refuses an unknown scheme, a URL without a table, and unknown parameters, naming them', async () => {
    expect(((await rejection(storeFromUrl('mongodb://db'))) as ConfigError).message).toContain('unsupported store URL scheme "mongodb:"');
    expect(((await rejection(storeFromUrl('dynamodb://?region=eu-west-1'))) as ConfigError).message).toContain('names no table');
    expect(((await rejection(storeFromUrl('dynamodb://t?regoin=eu-west-1'))) as ConfigError).field).toBe('store?regoin');
    expect(((await rejection(storeFromUrl('memory:?max=3'))) as ConfigError).field).toBe('store?max');
    expect(((await rejection(storeFromUrl('memory:?maxEntries=lots'))) as ConfigError).field).toBe('store?maxEntries');
    expect(((await rejection(storeFromUrl('not a url'))) as ConfigError).field).toBe('store');
  });

  it("reports an adapter's option error under the URL parameter, without the password", async () => {
    const error = await rejection(storeFromUrl('redis://:hunter2@127.0.0.1:1/0?prefix=bad{tag}'));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('store?prefix');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('redacts passwords', () => {
    expect(redactUrl('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redactUrl('postgres://app:p%40ss@db:5432/app?sslmode=require')).toBe('postgres://app:***@db:5432/app?sslmode=require');
    expect(redactUrl('memory:')).toBe('memory:');
    // ioredis and pg both accept the password as a query parameter too.
    expect(redactUrl('postgres://app@db:5432/app?password=s3cret&sslmode=require')).toBe(
      'postgres://app@db:5432/app?password=***&sslmode=require',
    );
    expect(redactUrl('redis://cache:6379?password=s3cret')).not.toContain('s3cret');
    expect(redactUrl('not a url //u:s3cret@h?token=t0k')).not.toMatch(/s3cret|t0k/);
  });
});

describe('store URLs that cannot work', () => {
  it('refuses redis:/host (one slash), which would quietly connect to localhost', async () => {
    for (const url of ['redis:/cache:6379', 'postgres:/db/app', 'rediss:cache']) {
      const error = await storeFromUrl(url).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain('two slashes');
    }
  });

  it('keeps a password given as ?password= out of every error', async () => {
    const error = await storeFromUrl('postgres://app@127.0.0.1:5432/test?password=s3cret&schema=bad-schema!').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).not.toContain('s3cret');
  });

  it('an unreachable Redis says which host and why, once, with no unhandled-error noise', async () => {
    const printed: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void printed.push(args);
    const store = await storeFromUrl('redis://127.0.0.1:6390?operationTimeoutMs=300');
    try {
      const error = await store.claim({ key: 'k', leaseMs: 1_000, retentionMs: 1_000 }).then(() => undefined, (caught: unknown) => caught);
      expect((error as Error).message).toMatch(/cannot reach 127\.0\.0\.1:6390 \(.*ECONNREFUSED 127\.0\.0\.1:6390/);
    } finally {
      await store.close();
      console.error = original;
    }
    expect(printed.filter((line) => String(line).includes('Unhandled error event'))).toEqual([]);
  });
});

describe('a Postgres store named by URL whose idle connection the server ends', () => {
  it('does not crash the process (pool errors are listened to) and keeps working on a new connection', async () => {
    // pg is a dev dependency here without its types: describe the little this test uses.
    type AdminClient = { connect(): Promise<void>; query(text: string, values: unknown[]): Promise<{ rowCount: number | null }>; end(): Promise<void> };
    const { default: pg } = (await import('pg' as string)) as { default: { Client: new (options: { connectionString: string }) => AdminClient } };
    const name = `idemkit-terminate-${randomUUID().slice(0, 8)}`;
    const store = await storeFromUrl(`${postgresUrl()}&application_name=${name}`);
    const admin = new pg.Client({ connectionString: inject('databaseUrl') });
    await admin.connect();
    try {
      const key = `terminate:${randomUUID()}`;
      expect((await store.claim({ key, leaseMs: 5_000, retentionMs: 5_000 })).acquired).toBe(true);
      const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
      expect(rowCount).toBeGreaterThan(0);
      // The pool drops the dead connection (an 'error' event, not an unhandled crash) and opens another.
      let record;
      for (let attempt = 0; attempt < 3 && record === undefined; attempt++) {
        record = await store.get(key).catch(() => undefined);
      }
      expect(record?.status).toBe('in_progress');
    } finally {
      await admin.end();
      await store.close();
    }
  });
});

describe('wrappers on stores named by URL', () => {
  it('share one store per URL between wrappers, so a claim by one is seen by the other', async () => {
    const url = redisUrl();
    const namespace = uniqueNamespace();
    const running = gate();
    const entered = gate();
    const slow = makeIdempotent(
      async () => {
        entered.open();
        await running.promise;
        return 'done';
      },
      { store: url, namespace, env: false, logLevel: 'off' },
    );
    const other = makeIdempotent(async () => 'other', { store: url, namespace, env: false, logLevel: 'off' });
    const event = orderEvent();
    const first = slow(event, lambdaContext());
    await entered.promise;
    expect(await rejection(other(event, lambdaContext()))).toBeInstanceOf(IdempotencyInProgressError);
    running.open();
    await expect(first).resolves.toBe('done');
    await expect(other(event, lambdaContext())).resolves.toBe('done');
  });

  it('run every branch on PostgreSQL through its URL: new, duplicate, handler error, in progress, SQS batch', async () => {
    const url = postgresUrl();
    const namespace = uniqueNamespace();
    let attempts = 0;
    const running = gate();
    const entered = gate();
    const handler = makeIdempotent(
      async (event: ReturnType<typeof orderEvent>) => {
        attempts += 1;
        if (event.detail.orderId === 'o-fails' && attempts === 1) throw new Error('downstream 503');
        if (event.detail.orderId === 'o-slow') {
          entered.open();
          await running.promise;
        }
        return { order: event.detail.orderId };
      },
      { store: url, namespace, env: false, logLevel: 'off' },
    );
    const failing = orderEvent('o-fails');
    await expect(handler(failing, lambdaContext())).rejects.toThrow('downstream 503');
    await expect(handler(failing, lambdaContext())).resolves.toEqual({ order: 'o-fails' });
    await expect(handler(failing, lambdaContext())).resolves.toEqual({ order: 'o-fails' });
    expect(attempts).toBe(2);

    const slow = orderEvent('o-slow');
    const first = handler(slow, lambdaContext());
    await entered.promise;
    expect(await rejection(handler(slow, lambdaContext()))).toBeInstanceOf(IdempotencyInProgressError);
    running.open();
    await first;

    const batch = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>) => {
        if (event.detail.orderId === 'o-bad') throw new Error('rejected');
      },
      { store: url, namespace: `${namespace}-sqs`, strategy: { strategy: 'eventId', path: 'detail.orderId' }, env: false, logLevel: 'off' },
    );
    const response = await batch(
      sqsEvent(
        sqsRecord(orderEvent('o-a'), { messageId: 'm-a' }),
        sqsRecord(orderEvent('o-a'), { messageId: 'm-a2' }),
        sqsRecord('{', { messageId: 'm-json' }),
        sqsRecord(orderEvent('o-bad'), { messageId: 'm-bad' }),
      ),
      lambdaContext(),
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-json' }, { itemIdentifier: 'm-bad' }]);
  });
});
