import { ConfigError, MemoryStore, type Clock, type IdempotencyStore } from '@idemkit/core';
import { releaseWhenIdle } from './idle.js';
import { exported, importAdapter, type ModuleLoader } from './load.js';
import { explainUnreachable, watchConnection } from './unreachable.js';
import { booleanParam, integerParam, parseStoreUrl, redactUrl, type ParsedStoreUrl } from './url.js';

/** Options of {@link storeFromUrl}. */
export interface StoreFromUrlOptions {
  /**
   * Imports the adapter and driver packages; in a bundle, the store's loader from
   * `@idemkit/eventbridge/<store>` (`redisLoader`, `postgresLoader`, `dynamodbLoader`).
   * @default an `import()` at run time from `node_modules`, which bundlers do not follow
   */
  loader?: ModuleLoader;
  /** Clock handed to the store (tests). */
  clock?: Clock;
  /**
   * Name of the setting the URL came from, used in errors.
   * @default 'store'
   */
  field?: string;
}

/** A store opened from a URL, with the client idemkit created for it. */
export type UrlStore = IdempotencyStore & {
  /** Closes the client idemkit opened for this store (a no-op for `memory:`). */
  close(): Promise<void>;
};

// The few members of each package that are used, described by shape so none is imported at build time.
type Constructor<TOptions, TInstance> = new (options: TOptions) => TInstance;
type StoreConstructor = Constructor<Record<string, unknown>, IdempotencyStore>;
interface RedisClientLike {
  status: string;
  /** The current socket; a reconnect replaces it. */
  stream?: { ref(): unknown; unref(): unknown };
  on(event: 'connect' | 'ready' | 'error', listener: (error?: Error) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}
interface PgPoolLike {
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
interface DynamoDBClientLike {
  destroy(): void;
}

/**
 * Opens the store a URL names, importing only the adapter that URL needs:
 *
 * | URL | store | packages |
 * | --- | --- | --- |
 * | `memory:` (`?maxEntries=`) | `MemoryStore` | none |
 * | `redis://[:password@]host:6379[/db]`, `rediss://…` (`?prefix=`, `?operationTimeoutMs=`) | `RedisStore` on an ioredis `Redis` | `@idemkit/redis ioredis` |
 * | `postgres://user:password@host:5432/db`, `postgresql://…` (`?schema=`, `?table=`, `?migrate=true`) | `PostgresStore` on a `pg.Pool` | `@idemkit/postgres pg` |
 * | `dynamodb://TABLE` (`?region=`, `?endpoint=`, `?partitionKey=`, `?ttlAttribute=`) | `DynamoDBStore` on a `DynamoDBClient` | `@idemkit/dynamodb @aws-sdk/client-dynamodb` |
 *
 * Other query parameters of redis and postgres URLs go to the driver (`?sslmode=require`).
 * `migrate=true` creates the Postgres table if it is missing. Credentials in the URL never
 * appear in errors. The client opened for the URL holds the process only while a call is in
 * flight, so a script ends once its work is done; `close()` ends the client.
 * @throws {@link MissingAdapterError} (a `ConfigError`) when a needed package is not installed,
 * saying what to `npm install`; {@link ConfigError} for a malformed URL or parameter.
 * @example
 * ```ts
 * const store = await storeFromUrl(process.env.IDEMKIT_STORE ?? 'memory:');
 * ```
 */
export async function storeFromUrl(url: string, options: StoreFromUrlOptions = {}): Promise<UrlStore> {
  const field = options.field ?? 'store';
  const parsed = parseStoreUrl(url, field);
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  switch (parsed.kind) {
    case 'memory': {
      const maxEntries = integerParam(parsed, 'maxEntries', field);
      const store = new MemoryStore({ ...clock, ...(maxEntries === undefined ? {} : { maxEntries }) });
      return withClose(store, async () => {});
    }
    case 'redis':
      return openRedis(parsed, field, clock, options.loader);
    case 'postgres':
      return openPostgres(parsed, field, clock, options.loader);
    case 'dynamodb':
      return openDynamoDB(parsed, field, clock, options.loader);
  }
}

async function openRedis(parsed: ParsedStoreUrl, field: string, clock: object, loader?: ModuleLoader): Promise<UrlStore> {
  const adapter = await importAdapter('@idemkit/redis', 'redis', parsed.scheme, field, loader);
  const driver = await importAdapter('ioredis', 'redis', parsed.scheme, field, loader);
  const RedisStore = required<StoreConstructor>(adapter, 'RedisStore', '@idemkit/redis', field);
  const Redis = required<new (url: string) => RedisClientLike>(driver, 'Redis', 'ioredis', field);
  const operationTimeoutMs = integerParam(parsed, 'operationTimeoutMs', field);
  const client = new Redis(parsed.url.toString());
  const connection = watchConnection(client);
  // QUIT waits for pending replies; a client that never connected is just dropped.
  const close = async () => {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  };
  const store = await construct(field, parsed, close, () =>
    new RedisStore({
      client,
      ...clock,
      ...(parsed.params['prefix'] === undefined ? {} : { prefix: parsed.params['prefix'] }),
      ...(operationTimeoutMs === undefined ? {} : { operationTimeoutMs }),
    }),
  );
  // The socket holds the process only while a call is in flight, so a script ends once idle.
  const host = `${parsed.url.hostname || 'localhost'}:${parsed.url.port || '6379'}`;
  const idle = releaseWhenIdle(withClose(explainUnreachable(store, host, connection), close), {
    ref: () => client.stream?.ref(),
    unref: () => client.stream?.unref(),
  });
  client.on('connect', idle.apply);
  return idle.store;
}

async function openPostgres(parsed: ParsedStoreUrl, field: string, clock: object, loader?: ModuleLoader): Promise<UrlStore> {
  const adapter = await importAdapter('@idemkit/postgres', 'postgres', parsed.scheme, field, loader);
  const driver = await importAdapter('pg', 'postgres', parsed.scheme, field, loader);
  const PostgresStore = required<StoreConstructor>(adapter, 'PostgresStore', '@idemkit/postgres', field);
  const Pool = required<Constructor<{ connectionString: string; allowExitOnIdle: boolean }, PgPoolLike>>(driver, 'Pool', 'pg', field);
  const migrate = booleanParam(parsed, 'migrate', field);
  // Idle connections do not hold the process, so a script ends once its work is done.
  const pool = new Pool({ connectionString: parsed.url.toString(), allowExitOnIdle: true });
  // An idle pooled connection the server ends (a restart, pg_terminate_backend, a failover) is
  // reported as a pool 'error' event: without a listener it would crash the whole process. The
  // pool replaces the connection on its next checkout; the store call that needs it says why.
  pool.on('error', () => undefined);
  const close = () => pool.end();
  const store = await construct(field, parsed, close, () =>
    new PostgresStore({
      client: pool,
      ...clock,
      ...(parsed.params['schema'] === undefined ? {} : { schema: parsed.params['schema'] }),
      ...(parsed.params['table'] === undefined ? {} : { table: parsed.params['table'] }),
    }),
  );
  if (migrate) {
    try {
      await (store as IdempotencyStore & { migrate(): Promise<void> }).migrate();
    } catch (error) {
      await close().catch(() => undefined);
      throw error;
    }
  }
  return withClose(store, close);
}

async function openDynamoDB(parsed: ParsedStoreUrl, field: string, clock: object, loader?: ModuleLoader): Promise<UrlStore> {
  const adapter = await importAdapter('@idemkit/dynamodb', 'dynamodb', parsed.scheme, field, loader);
  const driver = await importAdapter('@aws-sdk/client-dynamodb', 'dynamodb', parsed.scheme, field, loader);
  const DynamoDBStore = required<StoreConstructor>(adapter, 'DynamoDBStore', '@idemkit/dynamodb', field);
  const DynamoDBClient = required<Constructor<Record<string, string>, DynamoDBClientLike>>(
    driver,
    'DynamoDBClient',
    '@aws-sdk/client-dynamodb',
    field,
  );
  const { region, endpoint, partitionKey, ttlAttribute } = parsed.params;
  const client = new DynamoDBClient({
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
  });
  const close = async () => client.destroy();
  const store = await construct(field, parsed, close, () =>
    new DynamoDBStore({
      client,
      tableName: decodeURIComponent(parsed.url.hostname),
      ...clock,
      ...(partitionKey === undefined ? {} : { partitionKey }),
      ...(ttlAttribute === undefined ? {} : { ttlAttribute }),
    }),
  );
  return withClose(store, close);
}

function required<T>(module: Record<string, unknown>, name: string, specifier: string, field: string): T {
  const value = exported<T>(module, name);
  if (typeof value !== 'function') {
    throw new ConfigError(field, `\`${specifier}\` has no export \`${name}\`; check the installed version`);
  }
  return value;
}

// Adapter option errors (a bad prefix, schema or table) name the URL parameter they came from;
// the client opened for the store is closed again.
async function construct(
  field: string,
  parsed: ParsedStoreUrl,
  close: () => Promise<void>,
  build: () => IdempotencyStore,
): Promise<IdempotencyStore> {
  try {
    return build();
  } catch (error) {
    await close().catch(() => undefined);
    if (!(error instanceof ConfigError)) throw error;
    const problem = error.message.replace(/^\[idemkit\] invalid config at "[^"]*": /, '');
    throw new ConfigError(`${field}?${error.field}`, `${problem} (in ${redactUrl(parsed.url.toString())})`, { cause: error });
  }
}

function withClose(store: IdempotencyStore, close: () => Promise<void>): UrlStore {
  return Object.assign(store, { close });
}
