import { ConfigError } from '@idemkit/core';

/** The store kinds a URL can name. */
export type StoreKind = 'memory' | 'redis' | 'postgres' | 'dynamodb';

/** A store URL, parsed and checked, before any package is loaded. */
export interface ParsedStoreUrl {
  kind: StoreKind;
  /** The URL's scheme, e.g. `rediss:`, for messages. */
  scheme: string;
  url: URL;
  /** The query parameters idemkit reads (removed from what the driver sees). */
  params: Record<string, string>;
}

const SCHEMES: Record<string, StoreKind> = {
  'memory:': 'memory',
  'redis:': 'redis',
  'rediss:': 'redis',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'dynamodb:': 'dynamodb',
};

/** Query parameters idemkit reads per store kind; redis and postgres pass any others to their driver. */
export const URL_PARAMS: Record<StoreKind, readonly string[]> = {
  memory: ['maxEntries'],
  redis: ['prefix', 'operationTimeoutMs'],
  postgres: ['schema', 'table', 'migrate'],
  dynamodb: ['region', 'endpoint', 'partitionKey', 'ttlAttribute'],
};

const DRIVER_TAKES_OTHER_PARAMS: Record<StoreKind, boolean> = {
  memory: false,
  redis: true,
  postgres: true,
  dynamodb: false,
};

// Query parameters that carry credentials: ioredis and pg both accept `?password=`.
const SECRET_PARAMS = /^(?:password|pass|passwd|pwd|secret|token|auth|sslpassword|sslkey|accesskey|secretaccesskey|sessiontoken)$/i;

/**
 * The URL with its password — in the userinfo part or as a query parameter such as `?password=` —
 * replaced by `***`, for messages and logs.
 * @example redactUrl('redis://:s3cret@cache:6379') // 'redis://:***@cache:6379'
 * @example redactUrl('postgres://app@db/orders?password=s3cret') // 'postgres://app@db/orders?password=***'
 */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    let changed = false;
    if (url.password !== '') {
      url.password = '***';
      changed = true;
    }
    for (const name of [...url.searchParams.keys()]) {
      if (SECRET_PARAMS.test(name)) {
        url.searchParams.set(name, '***');
        changed = true;
      }
    }
    return changed ? url.toString().replace(/%2A%2A%2A/g, '***') : text;
  } catch {
    // Not a URL: hide anything between `:` and `@` that looks like credentials, and secret parameters.
    return text
      .replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@')
      .replace(/([?&](?:password|pass|passwd|pwd|secret|token|auth|sslpassword|sslkey)=)[^&#]*/gi, '$1***');
  }
}

/**
 * Parses and checks a store URL without loading anything.
 * @throws {@link ConfigError} on `field` for a malformed URL, an unknown scheme or a bad parameter.
 */
export function parseStoreUrl(text: string, field = 'store'): ParsedStoreUrl {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ConfigError(field, 'is empty; expected a store URL such as memory:, redis://host:6379 or dynamodb://TABLE?region=eu-west-1');
  }
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch (error) {
    throw new ConfigError(field, `${JSON.stringify(redactUrl(text))} is not a URL`, { cause: error });
  }
  const kind = SCHEMES[url.protocol];
  // `redis:/host` parses as a path, not a host: the driver would then quietly connect to localhost.
  if (kind !== undefined && kind !== 'memory' && !/^[a-z]+:\/\//i.test(text.trim())) {
    throw new ConfigError(field, `${JSON.stringify(redactUrl(text))} has no host: write ${url.protocol}//HOST…, with two slashes`);
  }
  if (kind === undefined) {
    throw new ConfigError(
      field,
      `unsupported store URL scheme "${url.protocol}"; use memory:, redis://, rediss://, postgres://, postgresql:// or dynamodb://TABLE`,
    );
  }
  const params: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (URL_PARAMS[kind].includes(name)) {
      params[name] = value;
    } else if (!DRIVER_TAKES_OTHER_PARAMS[kind]) {
      throw new ConfigError(
        `${field}?${name}`,
        `is not a parameter of ${url.protocol} store URLs; they take ${URL_PARAMS[kind].map((p) => `"${p}"`).join(', ')}`,
      );
    }
  }
  for (const name of URL_PARAMS[kind]) url.searchParams.delete(name);
  if (kind === 'dynamodb' && url.hostname === '') {
    throw new ConfigError(field, 'names no table; write dynamodb://TABLE?region=eu-west-1');
  }
  return { kind, scheme: url.protocol, url, params };
}

/** Reads a positive integer URL parameter. */
export function integerParam(parsed: ParsedStoreUrl, name: string, field: string): number | undefined {
  const value = parsed.params[name];
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new ConfigError(`${field}?${name}`, `must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Reads a `true`/`false` URL parameter. */
export function booleanParam(parsed: ParsedStoreUrl, name: string, field: string): boolean {
  const value = parsed.params[name];
  if (value === undefined || value === 'false') return false;
  if (value === 'true' || value === '') return true;
  throw new ConfigError(`${field}?${name}`, `must be true or false, got ${JSON.stringify(value)}`);
}
