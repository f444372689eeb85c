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
 * Imports one package by name. The default is `import()`; inject your own to load from
 * elsewhere, or in tests to act as if a package were not installed.
 */
export type ModuleLoader = (specifier: AdapterModule) => Promise<unknown>;

/** What `npm install` needs for each store kind. */
export const PACKAGES_FOR: Record<Exclude<StoreKind, 'memory'>, readonly AdapterModule[]> = {
  redis: ['@idemkit/redis', 'ioredis'],
  postgres: ['@idemkit/postgres', 'pg'],
  dynamodb: ['@idemkit/dynamodb', '@aws-sdk/client-dynamodb'],
};

/**
 * Imports `specifier` with `loader`, or with `import()`. A package that is not installed gives a
 * {@link MissingAdapterError} naming every package `kind` needs.
 */
export async function importAdapter(
  specifier: AdapterModule,
  kind: Exclude<StoreKind, 'memory'>,
  scheme: string,
  field: string,
  loader: ModuleLoader | undefined,
): Promise<Record<string, unknown>> {
  try {
    return ((loader === undefined ? await defaultImport(specifier) : await loader(specifier)) ?? {}) as Record<string, unknown>;
  } catch (error) {
    if (isNotFound(error)) throw new MissingAdapterError(field, specifier, PACKAGES_FOR[kind], scheme, { cause: error });
    throw new ConfigError(field, `could not load \`${specifier}\`: ${describe(error)}`, { cause: error });
  }
}

// Each import() is a literal, so bundlers see it (the `as string` only keeps TypeScript from
// resolving the types of optional packages), and it sits inside `try`, so esbuild includes a
// package that is installed and leaves one that is not to the runtime error above instead of
// failing the build.
async function defaultImport(specifier: AdapterModule): Promise<unknown> {
  try {
    switch (specifier) {
      case '@idemkit/redis':
        return await import('@idemkit/redis' as string);
      case 'ioredis':
        return await import('ioredis' as string);
      case '@idemkit/postgres':
        return await import('@idemkit/postgres' as string);
      case 'pg':
        return await import('pg' as string);
      case '@idemkit/dynamodb':
        return await import('@idemkit/dynamodb' as string);
      case '@aws-sdk/client-dynamodb':
        return await import('@aws-sdk/client-dynamodb' as string);
    }
  } catch (error) {
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  const message = error instanceof Error ? error.message : String(error);
  return /Cannot find (module|package)|Failed to (load|resolve)/i.test(message);
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
