// The handler as SAM's and CDK's esbuild builds ship it: bundled as ESM and as CommonJS, loaded in
// a plain Node process from a directory with no node_modules (as in /var/task), against the real
// Redis, with the CRM a local HTTP service that counts the activities it is asked to create.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys } from '../../../packages/redis/test/support/machine-redis.js';
import { bundleDir, bundleHandler, invokeBundle, storesIn } from '../../test/support/bundle.js';
import { httpSink, type HttpSink } from '../../test/support/http-sink.js';
import { genesysEvent } from './genesys-events.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `idemkit-example-bundle-${randomBytes(4).toString('hex')}`;
const out = bundleDir();
let crm: HttpSink;

/** What template.yaml gives the function, pointed at the local Redis and CRM. */
const environment = () => {
  const store = new URL(REDIS_URL);
  store.searchParams.set('prefix', PREFIX);
  return {
    IDEMKIT_STORE: store.toString(),
    IDEMKIT_STRATEGY: '{"preset":"genesysCloud"}',
    IDEMKIT_LOG_LEVEL: 'warn',
    CRM_URL: crm.url,
  };
};

const connected = () =>
  genesysEvent({ conversationId: randomUUID(), participantId: randomUUID(), topic: 'user.start', eventTime: Date.UTC(2026, 10, 2, 9) });

beforeAll(async () => {
  crm = await httpSink();
});

afterAll(async () => {
  out.remove();
  await crm.close();
  await deleteKeys(REDIS_URL, PREFIX);
});

describe.each(['esm', 'cjs'] as const)('genesys-redis handler bundled as %s', (format) => {
  it('holds the Redis store and no other, and runs a duplicate delivery once', async () => {
    const bundle = await bundleHandler('examples/genesys-redis/src/handler.ts', { format, outdir: out.dir });
    expect(storesIn(bundle.inputs)).toEqual(['redis']);

    const event = connected();
    const before = crm.received.length;
    const { deliveries, loadError } = await invokeBundle(bundle, [event, event], environment(), 'genesys-crm-sync');

    expect(loadError).toBeUndefined();
    expect(deliveries).toEqual([{ result: { activityId: `activities-${before + 1}` } }, { result: { activityId: `activities-${before + 1}` } }]);
    expect(crm.received.slice(before)).toEqual([expect.objectContaining({ conversationId: event.detail.eventBody.conversationId })]);
  });
});

describe('a bundle that lacks something says what, instead of failing obscurely', () => {
  it('ESM without the createRequire banner: names the banner ioredis needs', async () => {
    const bundle = await bundleHandler('examples/genesys-redis/src/handler.ts', { format: 'esm', outdir: out.dir, banner: '' });
    const before = crm.received.length;
    const { deliveries } = await invokeBundle(bundle, [connected()], environment());
    const [delivery] = deliveries;
    expect(delivery).toEqual({ error: expect.stringContaining('`ioredis` is CommonJS and was bundled into an ESM bundle that has no `require`') });
    expect(delivery).toEqual({ error: expect.stringContaining('const require = createRequire(import.meta.url);') });
    expect(crm.received.length).toBe(before); // fails closed: the CRM was never called
  });

  it.each(['esm', 'cjs'] as const)('a store URL without a loader (%s): holds no store, and names the loader to pass', async (format) => {
    const bundle = await bundleHandler('examples/test/fixtures/url-store-handler.ts', { format, outdir: out.dir });
    expect(storesIn(bundle.inputs)).toEqual([]);
    const { deliveries } = await invokeBundle(bundle, [{ id: 'e-1' }], environment());
    expect(deliveries).toEqual([
      {
        error: expect.stringMatching(
          /^MissingAdapterError: .*Cannot import `@idemkit\/redis`, which redis: store URLs need\. .*pass `loader: redisLoader` from "@idemkit\/eventbridge\/redis"/,
        ),
      },
    ]);
  });
});
