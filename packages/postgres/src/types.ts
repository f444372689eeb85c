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
   * Table of occurrences; a SQL identifier, quoted in every statement. The versions table, the
   * sequence, the indexes and the functions (`<table>_claim`, `<table>_claim_one`,
   * `<table>_complete_one`) take their names from it.
   * @default 'idemkit_records'
   */
  table?: string;
  /**
   * Send statements as named prepared statements (`idemkit_<operation>_<hash>`), parsed once per
   * connection. Leave off behind PgBouncer in transaction mode before 1.21 (or without
   * `max_prepared_statements`), where a name prepared on one server connection is unknown on the next.
   * Unprepared, a completion calls `<table>_complete_one`, its `UPDATE` in a function, so that it is
   * not planned on every call; prepared, the store sends that `UPDATE` itself.
   * @default false
   */
  preparedStatements?: boolean;
  /**
   * Decide leases and retention by PostgreSQL's clock instead of the caller's: every statement
   * reads the server's time (`clock_timestamp()` once a claim holds its keys' locks,
   * `statement_timestamp()` elsewhere) and `clock` is not used. Callers whose clocks disagree then
   * still agree on when a lease lapses or a record expires. Window times (`window.at`) are event
   * times and stay the caller's.
   * @default false
   */
  serverClock?: boolean;
  /**
   * Marks `client` as inside your transaction, so the engine fails a call whose completion could
   * not be recorded instead of letting your `COMMIT` silently roll the effect back.
   * Set by {@link PostgresStore.inTransaction} and {@link PostgresStore.withClient}.
   * @default false
   */
  transactional?: boolean;
}

/** Options for {@link PostgresStore.migrate}. */
export interface MigrateOptions {
  /**
   * How long one DDL lock request may wait. Kept short so a migration never holds running claims
   * up for long (they queue behind a waiting DDL lock); when it passes, the attempt is rolled back
   * and retried.
   * @default 1000
   */
  lockTimeoutMs?: number;
  /**
   * Attempts before giving up on lock timeouts, deadlocks, concurrent catalog changes and
   * connections the server terminated mid-attempt (`57P01`; with a pool, the next attempt gets
   * another connection). The error of the last one is thrown. A store that cannot be reached
   * fails at once.
   * @default 10
   */
  attempts?: number;
  /**
   * Called before each retry with the failure of the attempt that is retried (its `code` is the
   * SQLSTATE, e.g. `55P03` for a lock timeout), e.g. to log it.
   */
  onRetry?: (error: Error, attempt: number) => void;
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
   * @default the store's clock (the server's with `serverClock`)
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
