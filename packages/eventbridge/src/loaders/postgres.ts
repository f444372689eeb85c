/**
 * `@idemkit/eventbridge/postgres`: puts the PostgreSQL adapter and pg into a bundle, for store
 * URLs (`postgres://`, `postgresql://`) in a bundled handler.
 * @packageDocumentation
 */
import { bundledLoader } from './bundled.js';

/**
 * Loads `@idemkit/postgres` and `pg` for `postgres://` and `postgresql://` store URLs through
 * imports a bundler (esbuild, CDK `NodejsFunction`, SAM) can see, so the bundle holds this store
 * and no other. Not needed without a bundler, nor when you pass a `PostgresStore` yourself.
 * @example
 * ```ts
 * import { makeIdempotent } from '@idemkit/eventbridge';
 * import { postgresLoader } from '@idemkit/eventbridge/postgres';
 *
 * export const handler = makeIdempotent(fn, { store: process.env.IDEMKIT_STORE, loader: postgresLoader });
 * ```
 */
export const postgresLoader = bundledLoader('postgresLoader', {
  '@idemkit/postgres': () => import('@idemkit/postgres' as string),
  pg: () => import('pg' as string),
});
