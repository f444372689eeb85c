import { createRequire } from 'node:module';

// The bench talks to PostgreSQL through `pg`, but `@types/pg` is not one of its dependencies (only
// @idemkit/postgres has it), so this file describes the few calls the bench makes and loads `pg`
// untyped. Adding `@types/pg` to bench/package.json would let this become `import pg from 'pg'`.

export interface QueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

export interface QueryConfig {
  text: string;
  values?: unknown[];
  /** Makes it a named (prepared) statement, parsed once per connection. */
  name?: string;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  query<R = Record<string, unknown>>(config: QueryConfig): Promise<QueryResult<R>>;
}

export interface PoolClient extends Queryable {
  release(error?: Error | boolean): void;
}

export interface PoolConfig {
  connectionString: string;
  max?: number;
  /** Shows in `pg_stat_activity`: how the fault harness finds its own connections. */
  application_name?: string;
  idleTimeoutMillis?: number;
  connectionTimeoutMillis?: number;
}

export interface Pool extends Queryable {
  connect(): Promise<PoolClient>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): this;
}

export interface Client extends Queryable {
  connect(): Promise<void>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): this;
}

const pg = createRequire(import.meta.url)('pg') as {
  Pool: new (config: PoolConfig) => Pool;
  Client: new (config: PoolConfig) => Client;
};

/** A `pg.Pool`. */
export function newPool(config: PoolConfig): Pool {
  return new pg.Pool(config);
}

/** A `pg.Client` (connect it yourself). */
export function newClient(config: PoolConfig): Client {
  return new pg.Client(config);
}
