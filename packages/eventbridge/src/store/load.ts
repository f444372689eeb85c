import { ConfigError } from '@idemkit/core';
import { MissingAdapterError } from '../errors.js';
import type { StoreKind } from './url.js';

/** The packages a store URL may need, loaded only for the URL that needs them. */
export type AdapterModule =
  | '@idemkit/redis'
  | 'ioredis'
  | '@idemkit/postgres'
  | 'pg'
  | '@idemkit/dynamodb'
  | '@aws-sdk/client-dynamodb';

/**
 * Imports one package by name. The default imports it at run time from `node_modules`; in a
 * bundle, pass the loader of the store you use (`redisLoader` from `@idemkit/eventbridge/redis`,
 * `postgresLoader`, `dynamodbLoader`) so the bundler includes that store and no other. Tests
 * inject their own to act as if a package were not installed.
 */
export type ModuleLoader = (specifier: AdapterModule) => Promise<unknown>;

/** A store kind that needs packages. */
export type AdapterKind = Exclude<StoreKind, 'memory'>;

/** What `npm install` needs for each store kind. */
export const PACKAGES_FOR: Record<AdapterKind, readonly AdapterModule[]> = {
  redis: ['@idemkit/redis', 'ioredis'],
  postgres: ['@idemkit/postgres', 'pg'],
  dynamodb: ['@idemkit/dynamodb', '@aws-sdk/client-dynamodb'],
};

/** The loader that puts each store kind's packages into a bundle, for messages. */
export const LOADER_FOR: Record<AdapterKind, { name: string; from: string }> = {
  redis: { name: 'redisLoader', from: '@idemkit/eventbridge/redis' },
  postgres: { name: 'postgresLoader', from: '@idemkit/eventbridge/postgres' },
  dynamodb: { name: 'dynamodbLoader', from: '@idemkit/eventbridge/dynamodb' },
};

/**
 * Imports `specifier` with `loader`, or at run time. A package that cannot be found gives a
 * {@link MissingAdapterError} naming every package `kind` needs and the loader a bundle needs; a
 * CommonJS driver bundled into ESM without `require` says which banner the bundle lacks.
 */
export async function importAdapter(
  specifier: AdapterModule,
  kind: AdapterKind,
  scheme: string,
  field: string,
  loader: ModuleLoader | undefined,
): Promise<Record<string, unknown>> {
  try {
    return ((loader === undefined ? await importAtRunTime(specifier) : await loader(specifier)) ?? {}) as Record<string, unknown>;
  } catch (error) {
    if (isNotFound(error)) throw new MissingAdapterError(field, specifier, PACKAGES_FOR[kind], scheme, { cause: error, loader: LOADER_FOR[kind] });
    const builtin = dynamicRequireOf(error);
    if (builtin !== undefined) {
      throw new ConfigError(
        field,
        `\`${specifier}\` is CommonJS and was bundled into an ESM bundle that has no \`require\` (it asked for "${builtin}"). ` +
          "Start the bundle with the banner `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);` " +
          '(esbuild `banner.js`, CDK `bundling.banner`, SAM `BuildProperties.Banner`), or bundle as CommonJS',
        { cause: error },
      );
    }
    throw new ConfigError(field, `could not load \`${specifier}\`: ${describe(error)}`, { cause: error });
  }
}

// The specifier is a variable, so bundlers leave this import alone: a bundle holds only the
// adapters its code names (a store instance, or a loader from `@idemkit/eventbridge/<store>`),
// never every adapter that happens to be installed, and an unbundled deployment loads the one
// its URL needs from node_modules.
function importAtRunTime(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  const message = error instanceof Error ? error.message : String(error);
  return /Cannot find (module|package)|Failed to (load|resolve)/i.test(message);
}

// esbuild's stand-in for `require` in an ESM bundle throws this for every module it left outside.
function dynamicRequireOf(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  return /Dynamic require of "([^"]+)" is not supported/.exec(message)?.[1];
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Picks an export from a module namespace, looking through a CommonJS `default` too. */
export function exported<T>(module: Record<string, unknown>, name: string): T | undefined {
  const direct = module[name];
  if (direct !== undefined) return direct as T;
  const fallback = module['default'] as Record<string, unknown> | undefined;
  return (fallback?.[name] ?? (name === 'Redis' ? fallback : undefined)) as T | undefined;
}
