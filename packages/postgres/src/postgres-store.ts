import { createHash } from 'node:crypto';
import {
  assertPositiveInteger,
  assertValidClaim,
  ConfigError,
  LeaseLostError,
  systemClock,
  type ClaimOutcome,
  type ClaimRequest,
  type Clock,
  type CompleteOutcome,
  type CompleteRequest,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '@idemkit/core';
import { STORE_NAME, toStoreError } from './errors.js';
import { lockClass } from './identifiers.js';
import { recordFromRow, type RecordRow } from './records.js';
import { resolveNames, schemaSql, type ResolvedNames } from './schema.js';
import { migrateStatement, storeStatements, type StoreStatements } from './sql.js';
import type { PgQueryable, PostgresStoreOptions, PurgeOptions } from './types.js';

type ClaimRow = RecordRow & { ord: string; acquired: boolean };
type CompleteRow = RecordRow & { ord: string; completed: boolean };

/**
 * The idemkit store on PostgreSQL (`pg`): each operation is one SQL statement and one round
 * trip, correct under READ COMMITTED with any number of connections. Pass a `Pool` for
 * autocommit, or a client inside `BEGIN` so a claim commits or rolls back with your own writes.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { PostgresStore } from '@idemkit/postgres';
 *
 * const store = new PostgresStore({ client: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.migrate(); // once, or run @idemkit/postgres/sql/schema.sql with your migrations
 * ```
 */
export class PostgresStore implements IdempotencyStore {
  /** Store name used in errors and logs. */
  readonly name = STORE_NAME;
  /** The schema holding the table. */
  readonly schema: string;
  /** The table of idempotency records. */
  readonly table: string;
  /** Whether statements run inside the caller's transaction (see {@link PostgresStore.inTransaction}). */
  readonly transactional: boolean;
  /** `"schema"."table"`, quoted, for your own queries against the records. */
  readonly qualifiedTable: string;

  private readonly client: PgQueryable;
  private readonly clock: Clock;
  private readonly names: ResolvedNames;
  private readonly statements: StoreStatements;
  private readonly lockClass: number;
  private readonly options: PostgresStoreOptions;
  /** Statement text → prepared-statement name; empty unless `preparedStatements` is on. */
  private readonly statementNames = new Map<string, string>();

  /** @throws {@link ConfigError} when `client` is missing or `schema`/`table` is not a plain SQL identifier. */
  constructor(options: PostgresStoreOptions) {
    if (typeof options?.client?.query !== 'function') {
      throw new ConfigError('client', 'must be a pg Pool, Client or PoolClient (something with query())');
    }
    this.options = { ...options };
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.names = resolveNames(options);
    this.schema = this.names.schema;
    this.table = this.names.table;
    this.transactional = options.transactional ?? false;
    this.qualifiedTable = this.names.qualifiedTable;
    this.statements = storeStatements(this.names);
    this.lockClass = lockClass(this.schema, this.table);
    if (options.preparedStatements === true) {
      for (const [operation, text] of Object.entries(this.statements)) {
        this.statementNames.set(text, statementName(operation, text));
      }
    }
  }

  /**
   * A store whose every statement runs on `client`, a connection you have put inside `BEGIN`:
   * the claim, the completion and your own writes commit together, and a `ROLLBACK` undoes
   * the claim too. Other claimers of the same key wait until your transaction ends.
   *
   * @example
   * ```ts
   * const client = await pool.connect();
   * try {
   *   await client.query('BEGIN');
   *   const store = PostgresStore.inTransaction(client);
   *   const claim = await store.claim({ key, leaseMs: 30_000, retentionMs: 86_400_000 });
   *   if (claim.acquired) {
   *     await client.query('INSERT INTO orders (id, total) VALUES ($1, $2)', [id, total]);
   *     await store.complete({ key, fencingToken: claim.fencingToken, result: '"ok"', retentionMs: 86_400_000 });
   *   }
   *   await client.query('COMMIT');
   * } catch (error) {
   *   await client.query('ROLLBACK');
   *   throw error;
   * } finally {
   *   client.release();
   * }
   * ```
   */
  static inTransaction(client: PgQueryable, options: Omit<PostgresStoreOptions, 'client'> = {}): PostgresStore {
    return new PostgresStore({ ...options, client, transactional: true });
  }

  /**
   * The same store (names, clock, options) on another client inside your transaction: like
   * {@link PostgresStore.inTransaction}, with this store's settings.
   */
  withClient(client: PgQueryable): PostgresStore {
    return new PostgresStore({ ...this.options, client, transactional: true });
  }

  /**
   * Creates the sequence, table and index if they are missing (`IF NOT EXISTS`), under an
   * advisory lock so concurrent cold starts do not trip over each other. The DDL is
   * {@link schemaSql}; for the default names, the package's file `sql/schema.sql`.
   */
  async migrate(): Promise<void> {
    // No bind values: sent as one simple query, which runs its statements in one implicit transaction.
    const text = migrateStatement(schemaSql(this.names), this.lockClass);
    try {
      await this.client.query({ text });
    } catch (error) {
      throw toStoreError(error, { operation: 'migrate', table: this.qualifiedTable });
    }
  }

  /** Claims one key in one statement; a losing claim gets the current record from the same statement. */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const [outcome] = await this.claimBatch('claim', [request]);
    return outcome!;
  }

  /** Claims a whole batch (an SQS batch) in one statement; outcomes are in request order. */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    return this.claimBatch('claimMany', requests);
  }

  /**
   * Marks the claim completed with its result, in one statement, only while `fencingToken` is current.
   * @throws {@link LeaseLostError} (with the current record) when the token is stale or the claim is gone or completed.
   */
  async complete(request: CompleteRequest): Promise<void> {
    const [outcome] = await this.completeBatch('complete', [request]);
    if (!outcome!.ok) throw outcome!.error;
  }

  /** Completes a whole batch in one statement; a stale token fails its own item with {@link LeaseLostError}. */
  async completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    return this.completeBatch('completeMany', requests);
  }

  /** Deletes the in-progress claim only while `fencingToken` is current; false when nothing was deleted. */
  async release(key: string, fencingToken: number): Promise<boolean> {
    const result = await this.run('release', this.statements.release, [key, fencingToken, this.now()]);
    return result.rowCount === 1;
  }

  /** Reads the live record for a key; a row past its retention reads as undefined. */
  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const { rows } = await this.run('get', this.statements.get, [key, this.now()]);
    const row = rows[0] as RecordRow | undefined;
    return row === undefined ? undefined : recordFromRow(row);
  }

  /**
   * Deletes rows past their retention, `batchSize` rows per statement, until a batch comes up
   * short (or `maxBatches` ran). Expired rows already count as absent; this only reclaims space.
   * Run it from a schedule (an EventBridge Scheduler rule, `pg_cron`), not on the request path.
   * @returns how many rows were deleted.
   */
  async purgeExpired(options: PurgeOptions = {}): Promise<number> {
    const batchSize = options.batchSize ?? 1000;
    const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
    assertPositiveInteger('batchSize', batchSize, 'rows');
    if (maxBatches !== Number.POSITIVE_INFINITY) assertPositiveInteger('maxBatches', maxBatches, 'batches');
    const now = options.now ?? this.now();
    if (!Number.isFinite(now)) throw new ConfigError('now', `must be a finite epoch-ms number, got ${String(now)}`);
    let deleted = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
      const { rowCount } = await this.run('purgeExpired', this.statements.purge, [Math.floor(now), batchSize]);
      deleted += rowCount ?? 0;
      if ((rowCount ?? 0) < batchSize) break;
    }
    return deleted;
  }

  private async claimBatch(operation: string, requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    requests.forEach(assertValidClaim);
    if (requests.length === 0) return [];
    const { rows } = await this.run(operation, this.statements.claim, [
      requests.map((request) => request.key),
      requests.map((request) => request.leaseMs),
      requests.map((request) => request.retentionMs),
      requests.map((request) => request.fingerprint ?? null),
      requests.map((request) => request.window?.at ?? null),
      requests.map((request) => request.window?.windowMs ?? null),
      this.now(),
      this.lockClass,
    ]);
    return (rows as ClaimRow[]).map((row) => {
      const record = recordFromRow(row)!;
      return row.acquired ? { acquired: true, fencingToken: record.fencingToken, record } : { acquired: false, record };
    });
  }

  private async completeBatch(operation: string, requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    if (requests.length === 0) return [];
    const { rows } = await this.run(operation, this.statements.complete, [
      requests.map((request) => request.key),
      requests.map((request) => request.fencingToken),
      requests.map((request) => request.result ?? null),
      requests.map((request) => request.retentionMs),
      this.now(),
    ]);
    return (rows as CompleteRow[]).map((row, i): CompleteOutcome => {
      if (row.completed) return { ok: true };
      const request = requests[i]!;
      return { ok: false, error: new LeaseLostError(request.key, request.fencingToken, recordFromRow(row)) };
    });
  }

  /** Runs one statement, named when `preparedStatements` is on, and wraps any failure. */
  private async run(operation: string, text: string, values: unknown[]) {
    const name = this.statementNames.get(text);
    try {
      return await this.client.query(name === undefined ? { text, values } : { name, text, values });
    } catch (error) {
      throw toStoreError(error, { operation, table: this.qualifiedTable });
    }
  }

  /** The clock in whole milliseconds (the time columns are `bigint`). */
  private now(): number {
    return Math.floor(this.clock());
  }
}

/** `idemkit_<operation>_<hash of the text>`: unique per statement text, as `pg` requires of a name. */
function statementName(operation: string, text: string): string {
  return `idemkit_${operation}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}
