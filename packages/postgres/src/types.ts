import type { StoreOptions } from '@idemkit/core';

/** One statement as `pg` takes it: SQL text, bind values, and an optional prepared-statement name. */
export interface PgQueryConfig {
  text: string;
  values?: unknown[];
  /** Set only with `preparedStatements: true`. */
  name?: string;
}

/** The part of a `pg` result the store reads. */
export interface PgQueryResult {
  rows: unknown[];
  rowCount: number | null;
}

/**
 * Anything that runs a `pg` query: a `Pool`, a `Client`, or a `PoolClient` checked out of a
 * pool. Described by shape, so this package never imports `pg` at run time.
 */
export interface PgQueryable {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
}

/** Options for {@link PostgresStore}. */
export interface PostgresStoreOptions extends StoreOptions {
  /**
   * Where statements run: a `pg.Pool` (each operation on any free connection, autocommit),
   * or a `pg.Client`/`PoolClient`. A client inside `BEGIN` makes the store transactional:
   * claims commit or roll back with your own writes (see {@link PostgresStore.inTransaction}).
   */
  client: PgQueryable;
  /**
   * Schema holding the table; a SQL identifier, quoted in every statement.
   * @default 'public'
   */
  schema?: string;
  /**
   * Table of idempotency records; a SQL identifier, quoted in every statement.
   * @default 'idemkit_records'
   */
  table?: string;
  /**
   * Send statements as named prepared statements (`idemkit_<operation>_<hash>`), parsed once per
   * connection. Leave off behind PgBouncer in transaction mode before 1.21 (or without
   * `max_prepared_statements`), where a name prepared on one server connection is unknown on the next.
   * @default false
   */
  preparedStatements?: boolean;
  /**
   * Marks `client` as inside your transaction, so the engine fails a call whose completion could
   * not be recorded instead of letting your `COMMIT` silently roll the effect back.
   * Set by {@link PostgresStore.inTransaction} and {@link PostgresStore.withClient}.
   * @default false
   */
  transactional?: boolean;
}

/** Options for {@link PostgresStore.purgeExpired}. */
export interface PurgeOptions {
  /**
   * Rows deleted per statement; each batch is its own short statement, so locks stay brief.
   * @default 1000
   */
  batchSize?: number;
  /**
   * Stop after this many batches even if expired rows remain (keeps a scheduled run within its timeout).
   * @default Infinity
   */
  maxBatches?: number;
  /**
   * Rows with `expires_at` at or before this instant (epoch ms) are deleted.
   * @default the store's clock
   */
  now?: number;
}

/** Names of the table and the objects that belong to it, as {@link schemaSql} takes them. */
export interface SchemaNames {
  /** @default 'public' */
  schema?: string;
  /** @default 'idemkit_records' */
  table?: string;
}
