/**
 * `@idemkit/eventbridge/redis`: puts the Redis adapter and ioredis into a bundle, for store URLs
 * (`redis://`, `rediss://`) in a bundled handler.
 * @packageDocumentation
 */
import { bundledLoader } from './bundled.js';

/**
 * Loads `@idemkit/redis` and `ioredis` for `redis://` and `rediss://` store URLs through imports a
 * bundler (esbuild, CDK `NodejsFunction`, SAM) can see, so the bundle holds this store and no
 * other. Not needed without a bundler, nor when you pass a `RedisStore` yourself.
 * @example
 * ```ts
 * import { makeIdempotent } from '@idemkit/eventbridge';
 * import { redisLoader } from '@idemkit/eventbridge/redis';
 *
 * export const handler = makeIdempotent(fn, { store: process.env.IDEMKIT_STORE, loader: redisLoader });
 * ```
 */
export const redisLoader = bundledLoader('redisLoader', {
  '@idemkit/redis': () => import('@idemkit/redis' as string),
  ioredis: () => import('ioredis' as string),
});
